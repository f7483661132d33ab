import { mkdir, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type ExecFn, idmapMount, mountsUnder, readMountInfo } from '@sprites/storage'

/** The sprite's user-namespace range the views are idmapped to. */
export interface ViewRange {
  uidBase: number
  uidCount: number
}

/**
 * Makes `dir` a shared mount of itself (its own peer group), so mounts made below it later
 * propagate into every sandbox that bound it with slave propagation. Idempotent.
 */
export async function makeSharedDir(exec: ExecFn, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 })
  const mounted = (await readMountInfo()).some((e) => e.mountPoint === dir)
  if (!mounted) await exec('mount', ['--bind', dir, dir])
  await exec('mount', ['--make-shared', dir])
}

/**
 * Mounts checkpoint image `image` read-only at `target`, idmapped to `range`: the image is
 * loop-attached (autoclear) and mounted `ro,noload` at `stage`, an idmapped clone of that mount
 * is moved to `target`, and the staging mount goes. The loop device is released by the kernel
 * once the last mount of it is gone. `stage` must lie outside every shared directory.
 */
export async function mountView(
  exec: ExecFn,
  image: string,
  stage: string,
  target: string,
  range: ViewRange,
): Promise<void> {
  await mkdir(stage, { recursive: true, mode: 0o700 })
  try {
    await exec('mount', ['-t', 'ext4', '-o', 'ro,noload,loop', image, stage])
    try {
      await mkdir(target, { recursive: true, mode: 0o755 })
      await idmapMount(exec, stage, target, range)
    } finally {
      await exec('umount', [stage])
    }
  } catch (err) {
    await rmdir(target).catch(() => undefined)
    throw err
  } finally {
    await rmdir(stage).catch(() => undefined)
  }
}

/** Lazily unmounts a view (a shell inside may still have its cwd there) and removes its dir. */
export async function unmountView(exec: ExecFn, target: string): Promise<void> {
  await lazyUnmount(exec, target)
  await rmdir(target).catch(() => undefined)
}

/**
 * Lazily unmounts everything at or below `dir`, deepest first, until nothing is left (a lazy
 * unmount of a parent also takes its children, so later ones may already be gone).
 */
export async function unmountTree(exec: ExecFn, dir: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const entries = mountsUnder(await readMountInfo(), dir)
    if (entries.length === 0) return
    for (const e of entries) await lazyUnmount(exec, e.mountPoint)
  }
}

/** Ids of the views mounted directly below `dir`. */
export async function mountedViews(dir: string): Promise<string[]> {
  const prefix = `${dir}/`
  return (await readMountInfo())
    .map((e) => e.mountPoint)
    .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
    .map((p) => p.slice(prefix.length))
}

async function lazyUnmount(exec: ExecFn, path: string): Promise<void> {
  await exec('umount', ['-l', path]).catch((err: Error & { stderr?: string }) => {
    if (!/not mounted|no mount point|No such file/i.test(err.stderr ?? err.message)) throw err
  })
}

/** Path of the staging mount of one view: `<stageRoot>/<sandbox>-<checkpoint>`. */
export function stagePath(stageRoot: string, sandbox: string, checkpoint: string): string {
  return join(stageRoot, `${sandbox}-${checkpoint}`)
}
