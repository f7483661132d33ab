import { mkdir, rmdir, stat } from 'node:fs/promises'
import { SpritesError } from '@sprites/protocol'
import type { ExecFn } from './exec.ts'
import { idmapMount } from './idmap.ts'
import type { Logger } from './logger.ts'
import { attachLoop, detachLoop, loopsOf } from './loop.ts'
import { isMountPoint, mountExt4, unmountAll } from './mounts.ts'
import type { Layout } from './names.ts'
import { diskPath, mountPaths } from './names.ts'
import { withRollback } from './rollback.ts'
import type { AttachedDisk, AttachOptions } from './volume-driver.ts'

export interface AttachDeps {
  layout: Layout
  exec: ExecFn
  log: Logger
}

/** Removes an empty directory; a missing one is fine. Never removes contents (it may be a mount). */
async function removeEmptyDir(path: string): Promise<void> {
  await rmdir(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}

/** The attachment of a disk whose idmapped root is already mounted, if any. */
async function currentAttachment(deps: AttachDeps, id: string): Promise<AttachedDisk | undefined> {
  const { root } = mountPaths(deps.layout, id)
  if (!(await isMountPoint(root))) return undefined
  const [device] = await loopsOf(deps.exec, diskPath(deps.layout, id))
  return { rootfs: root, device: device ?? '' }
}

/**
 * Drops the plain staging mount so only the idmapped clone keeps the superblock alive; when that
 * fails both stay mounted (detach removes both).
 */
async function dropStaging(deps: AttachDeps, staging: string, root: string): Promise<void> {
  try {
    await deps.exec('umount', [staging])
    await stat(`${root}/.`)
    await removeEmptyDir(staging)
  } catch (err) {
    deps.log.warn({ err, staging }, 'keeping staging mount beside the idmapped mount')
  }
}

/**
 * Loop-attaches the disk, mounts it at a staging directory, mounts an idmapped clone at
 * `<dataDir>/mnt/<id>/root` and drops the staging mount. Every step is undone on failure.
 */
export async function attachDisk(
  deps: AttachDeps,
  id: string,
  opts: AttachOptions,
): Promise<AttachedDisk> {
  const existing = await currentAttachment(deps, id)
  if (existing) return existing
  const { exec } = deps
  const { dir, root, staging } = mountPaths(deps.layout, id)
  const onUndoError = (err: unknown) => deps.log.error({ err, id }, 'attach rollback step failed')
  return withRollback(async (onUndo) => {
    onUndo(() => removeEmptyDir(dir))
    onUndo(() => removeEmptyDir(root))
    onUndo(() => removeEmptyDir(staging))
    await mkdir(root, { recursive: true })
    await mkdir(staging, { recursive: true })
    const device = await attachLoop(exec, diskPath(deps.layout, id))
    onUndo(() => detachLoop(exec, device))
    await mountExt4(exec, device, staging)
    onUndo(() => unmountAll(exec, staging))
    await idmapMount(exec, staging, root, opts)
    onUndo(() => unmountAll(exec, root))
    await dropStaging(deps, staging, root)
    return { rootfs: root, device }
  }, onUndoError).catch((err: unknown) => {
    if (err instanceof SpritesError) throw err
    throw new SpritesError('internal', `attaching disk ${id} failed: ${(err as Error).message}`, {
      cause: err,
      details: { id },
    })
  })
}

/**
 * Unmounts the disk's mounts and detaches every loop device backed by its image (found with
 * `losetup -j`, so this also works after a restart); a disk that is not attached is left alone.
 */
export async function detachDisk(deps: AttachDeps, id: string): Promise<void> {
  const { dir, root, staging } = mountPaths(deps.layout, id)
  await unmountAll(deps.exec, dir)
  await unmountAll(deps.exec, staging)
  const image = diskPath(deps.layout, id)
  const hasImage = await stat(image).then(
    () => true,
    () => false,
  )
  const devices = hasImage ? await loopsOf(deps.exec, image) : []
  for (const device of devices) await detachLoop(deps.exec, device)
  await removeEmptyDir(root)
  await removeEmptyDir(dir)
  await removeEmptyDir(staging)
}
