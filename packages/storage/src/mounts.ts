import type { ExecFn } from './exec.ts'
import { mountsUnder, readMountInfo } from './mountinfo.ts'

/** Mounts an ext4 block device at `target` with `noatime`. */
export async function mountExt4(exec: ExecFn, device: string, target: string): Promise<void> {
  await exec('mount', ['-t', 'ext4', '-o', 'noatime', device, target])
}

/** Whether something is mounted exactly at `path`. */
export async function isMountPoint(path: string): Promise<boolean> {
  return (await readMountInfo()).some((e) => e.mountPoint === path)
}

/** Unmounts everything at or below `dir`, deepest first, until nothing is left there. */
export async function unmountAll(exec: ExecFn, dir: string): Promise<void> {
  for (;;) {
    const [top] = mountsUnder(await readMountInfo(), dir)
    if (!top) return
    await exec('umount', [top.mountPoint])
  }
}
