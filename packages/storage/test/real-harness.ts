import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { defaultExec } from '../src/exec.ts'
import { detachLoop } from '../src/loop.ts'
import { mountsUnder, readMountInfo } from '../src/mountinfo.ts'
import { unmountAll } from '../src/mounts.ts'
import type { ReflinkVolumeDriverOptions } from '../src/reflink-volume-driver.ts'
import { createReflinkVolumeDriver } from '../src/reflink-volume-driver.ts'
import type { AttachOptions } from '../src/volume-driver.ts'

const run = promisify(execFile)

/** Whether the integration tests that mount and loop-attach can run here. */
export const isRoot = process.getuid?.() === 0
export const ROOT_SKIP = isRoot ? false : 'needs root for loop devices and mounts'

/** Small pool so a test never reserves much of /var/tmp; images stay sparse. */
export const TEST_POOL_BYTES = 20 * 1024 ** 3
export const TEST_DISK_BYTES = 1024 ** 3

/** A fresh data directory under /var/tmp (mode 0755 so mapped uids can reach the mounts). */
export async function makeDataDir(): Promise<string> {
  const dir = await mkdtemp('/var/tmp/sprites-storage-test-')
  await chmod(dir, 0o755)
  return dir
}

/** Loop devices whose backing file lies under `dir`, from `losetup -a`. */
export async function loopsUnder(dir: string): Promise<string[]> {
  return (await loopBackings(dir)).map((l) => l.device).sort()
}

/** Loop devices whose backing file is under `dir`, with that file. */
async function loopBackings(dir: string): Promise<{ device: string; file: string }[]> {
  const { stdout } = await run('losetup', ['-a'])
  return stdout
    .split('\n')
    .filter((line) => line.includes(`(${dir}/`))
    .map((line) => ({
      device: line.slice(0, line.indexOf(':')),
      file: line.slice(line.indexOf(`(${dir}/`) + 1, line.lastIndexOf(')')),
    }))
}

/**
 * Backing files of the loop devices and the mounts under `dir`: equal snapshots mean nothing
 * leaked. Files, not device names: a remount may get another free device, more so while other
 * processes on the host attach loop devices too.
 */
export async function resourceSnapshot(
  dir: string,
): Promise<{ loops: string[]; mounts: string[] }> {
  const mounts = mountsUnder(await readMountInfo(), dir).map((m) => m.mountPoint)
  const loops = (await loopBackings(dir)).map((l) => l.file)
  return { loops: loops.sort(), mounts: mounts.sort() }
}

/** Unmounts and detaches everything under `dir`, then removes it. */
export async function destroyDataDir(dir: string): Promise<void> {
  await unmountAll(defaultExec, dir)
  for (const device of await loopsUnder(dir)) await detachLoop(defaultExec, device)
  const left = mountsUnder(await readMountInfo(), dir)
  if (left.length === 0) await rm(dir, { recursive: true, force: true })
}

/** Writes a file as the host uid that the sprite's root maps to. */
export async function writeAsSpriteRoot(
  rootfs: string,
  relPath: string,
  data: string,
  range: AttachOptions,
) {
  const script = 'printf %s "$1" > "$2"'
  const opts = { uid: range.uidBase, gid: range.uidBase }
  await run('sh', ['-c', script, 'sh', data, `${rootfs}/${relPath}`], opts)
}

/** A reflink driver on a fresh data directory with small test sizes. */
export function testDriver(dataDir: string, extra: Partial<ReflinkVolumeDriverOptions> = {}) {
  return createReflinkVolumeDriver({
    dataDir,
    poolSizeBytes: TEST_POOL_BYTES,
    defaultDiskBytes: TEST_DISK_BYTES,
    ...extra,
  })
}
