import { SpritesError } from '@sprites/protocol'
import type { Layout } from './names.ts'

/** Checkpoint ids on disk: `v<N>` (user checkpoints, `v0` = pristine) or `auto-<N>` (restore backups). */
export const CHECKPOINT_ID_RE = /^(v|auto-)(0|[1-9][0-9]{0,8})$/

/** Throws `invalid_argument` unless `ckptID` is a checkpoint id (`v3`, `auto-2`). */
export function assertCheckpointID(ckptID: string): void {
  if (typeof ckptID !== 'string' || !CHECKPOINT_ID_RE.test(ckptID)) {
    throw new SpritesError(
      'invalid_argument',
      `invalid checkpoint id ${JSON.stringify(ckptID)}: use v<N> or auto-<N>`,
      { details: { checkpoint: ckptID } },
    )
  }
}

/** Directory of one disk's checkpoint images: `<pool>/checkpoints/<id>`. */
export function checkpointDir(layout: Layout, id: string): string {
  return `${layout.pool}/checkpoints/${id}`
}

/** Path of one checkpoint image: `<pool>/checkpoints/<id>/<ckptID>.ext4`. */
export function checkpointPath(layout: Layout, id: string, ckptID: string): string {
  return `${checkpointDir(layout, id)}/${ckptID}.ext4`
}

/** Bytes a checkpoint image holds alone (freed when it is deleted) and shares with other images. */
export interface CheckpointSpace {
  exclusiveBytes: number
  sharedBytes: number
}

const FIEMAP_EXTENT_SHARED = 0x2000

/**
 * Sums the extents of `xfs_io -c 'fiemap -v'` output (512-byte units, hex flags): extents with
 * FIEMAP_EXTENT_SHARED count as shared, the others as exclusive; holes count as neither.
 */
export function parseFiemap(stdout: string): CheckpointSpace {
  let exclusiveBytes = 0
  let sharedBytes = 0
  for (const line of stdout.split('\n')) {
    const m = /^\s*\d+:\s*\[\d+\.\.\d+\]:\s*\d+\.\.\d+\s+(\d+)\s+0x([0-9a-f]+)/i.exec(line)
    if (!m) continue
    const bytes = Number(m[1]) * 512
    if (Number.parseInt(m[2] ?? '0', 16) & FIEMAP_EXTENT_SHARED) sharedBytes += bytes
    else exclusiveBytes += bytes
  }
  return { exclusiveBytes, sharedBytes }
}
