import { SpritesError } from '@sprites/protocol'

/** The reserved pseudo-id of the live state (D28): never listed, 409 on delete and restore. */
export const CURRENT_ID = 'Current'

/** Restore backups kept per sprite; older auto checkpoints are pruned. */
export const AUTO_KEEP = 3

/** 404 `checkpoint_not_found` for an id the sprite has no checkpoint under. */
export function checkpointNotFound(raw: string): SpritesError {
  return new SpritesError(
    'checkpoint_not_found',
    `checkpoint not found: ${raw} (list them with GET …/checkpoints; ids look like v3)`,
    { details: { checkpoint: raw } },
  )
}

/**
 * Normalizes a checkpoint id from a path or body: `v3` and bare `3` give `v3`, `auto-2` stays.
 * @throws checkpoint_not_found for anything else, conflict for `Current` when `forChange`
 */
export function resolveCheckpointID(raw: string, forChange = false): string {
  const id = raw.trim()
  if (id.toLowerCase() === CURRENT_ID.toLowerCase() && forChange) {
    throw new SpritesError('conflict', `${CURRENT_ID} is the live state, not a checkpoint`)
  }
  if (/^(0|[1-9][0-9]{0,8})$/.test(id)) return `v${id}`
  if (/^(v|auto-)(0|[1-9][0-9]{0,8})$/.test(id)) return id
  throw checkpointNotFound(raw)
}
