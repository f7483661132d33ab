import { constants } from 'node:fs'
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { SpritesError } from '@sprites/protocol'
import type { AttachDeps } from './attach.ts'
import {
  type CheckpointSpace,
  checkpointDir,
  checkpointPath,
  parseFiemap,
} from './checkpoint-files.ts'
import { isMountPoint } from './mounts.ts'
import { diskPath, mountPaths } from './names.ts'

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Clones `src` to `dst` with FICLONE (no data copied), through a temp name so `dst` is whole or absent. */
export async function reflinkFile(src: string, dst: string): Promise<void> {
  const tmp = `${dst}.tmp`
  try {
    await copyFile(src, tmp, constants.COPYFILE_FICLONE_FORCE)
    await rename(tmp, dst)
  } finally {
    await rm(tmp, { force: true })
  }
}

function noCheckpoint(id: string, ckptID: string): SpritesError {
  return new SpritesError('checkpoint_not_found', `checkpoint not found: ${ckptID}`, {
    details: { id, checkpoint: ckptID },
  })
}

/**
 * Clones the disk image to `dst`. When the disk is mounted, its filesystem is frozen around the
 * clone (`fsfreeze -f` flushes it and blocks writers), so the copy is a clean ext4 image; the
 * thaw runs in a `finally`, so a failed clone never leaves the filesystem frozen.
 */
export async function cloneLiveDisk(deps: AttachDeps, id: string, dst: string): Promise<void> {
  const disk = diskPath(deps.layout, id)
  if (!(await exists(disk))) {
    throw new SpritesError('not_found', `no disk ${id}: create it first`, { details: { id } })
  }
  const { root } = mountPaths(deps.layout, id)
  if (!(await isMountPoint(root))) return reflinkFile(disk, dst)
  await deps.exec('fsfreeze', ['-f', root])
  try {
    await reflinkFile(disk, dst)
  } finally {
    await deps.exec('fsfreeze', ['-u', root]).catch((err: unknown) => {
      deps.log.error({ err, id, root }, 'fsfreeze -u failed')
      throw err
    })
  }
}

/** Takes checkpoint `ckptID` of disk `id`; an existing one is kept as it is. */
export async function takeCheckpoint(deps: AttachDeps, id: string, ckptID: string): Promise<void> {
  const target = checkpointPath(deps.layout, id, ckptID)
  if (await exists(target)) return
  await mkdir(checkpointDir(deps.layout, id), { recursive: true })
  await cloneLiveDisk(deps, id, target)
}

/** Replaces the (detached) disk with a clone of a checkpoint, atomically by rename. */
export async function restoreCheckpoint(
  deps: AttachDeps,
  id: string,
  ckptID: string,
): Promise<void> {
  const src = checkpointPath(deps.layout, id, ckptID)
  if (!(await exists(src))) throw noCheckpoint(id, ckptID)
  const { root, staging } = mountPaths(deps.layout, id)
  if ((await isMountPoint(root)) || (await isMountPoint(staging))) {
    throw new SpritesError('conflict', `disk ${id} is attached: detach it before a restore`, {
      details: { id },
    })
  }
  await reflinkFile(src, diskPath(deps.layout, id))
}

/** Removes one checkpoint image; a missing one is fine. */
export async function deleteCheckpointFile(
  deps: AttachDeps,
  id: string,
  ckptID: string,
): Promise<void> {
  await rm(checkpointPath(deps.layout, id, ckptID), { force: true })
}

/** Ids of the checkpoint images stored for disk `id`, unordered. */
export async function listCheckpointFiles(deps: AttachDeps, id: string): Promise<string[]> {
  const names = await readdir(checkpointDir(deps.layout, id)).catch(() => [] as string[])
  return names.filter((n) => n.endsWith('.ext4')).map((n) => n.slice(0, -'.ext4'.length))
}

/** Exclusive and shared bytes of one checkpoint image, from its FIEMAP extent flags. */
export async function checkpointSpace(
  deps: AttachDeps,
  id: string,
  ckptID: string,
): Promise<CheckpointSpace> {
  const path = checkpointPath(deps.layout, id, ckptID)
  if (!(await exists(path))) throw noCheckpoint(id, ckptID)
  const { stdout } = await deps.exec('xfs_io', ['-r', '-c', 'fiemap -v', path])
  return parseFiemap(stdout)
}

/** Clones a checkpoint of `srcID` (or, with `null`, its live disk) into the new disk `newID`. */
export async function forkDiskFiles(
  deps: AttachDeps,
  srcID: string,
  ckptID: string | null,
  newID: string,
): Promise<void> {
  const target = diskPath(deps.layout, newID)
  if (await exists(target)) return
  if (ckptID === null) return cloneLiveDisk(deps, srcID, target)
  const src = checkpointPath(deps.layout, srcID, ckptID)
  if (!(await exists(src))) throw noCheckpoint(srcID, ckptID)
  await reflinkFile(src, target)
}

/** Removes every checkpoint image of disk `id`. */
export async function removeCheckpoints(deps: AttachDeps, id: string): Promise<void> {
  await rm(checkpointDir(deps.layout, id), { recursive: true, force: true })
}
