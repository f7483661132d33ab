import type { CheckpointRecord } from '@sprites/store'

/** Checkpoint object of sprites-api.md §6, with the X2 space fields. */
export interface CheckpointWire {
  id: string
  create_time: string
  comment?: string
  source_id?: string
  history?: string[]
  is_auto: boolean
  health: '' | 'mount_failed'
  exclusive_bytes: number
  shared_bytes: number
}

/** Space of one checkpoint image (X2). */
export interface Space {
  exclusiveBytes: number
  sharedBytes: number
}

/** A stored checkpoint with its space → the wire object; empty optional fields are left out. */
export function checkpointToWire(c: CheckpointRecord, space: Space): CheckpointWire {
  const wire: CheckpointWire = {
    id: c.id,
    create_time: c.createdAt.toISOString(),
    is_auto: c.isAuto,
    health: '',
    exclusive_bytes: space.exclusiveBytes,
    shared_bytes: space.sharedBytes,
  }
  if (c.comment) wire.comment = c.comment
  if (c.sourceID) wire.source_id = c.sourceID
  if (c.history.length > 0) wire.history = [...c.history]
  return wire
}

/** `history=<id>`: the checkpoints that are `<id>` or descend from it. */
export function inHistory(c: CheckpointRecord, id: string): boolean {
  return c.id === id || c.history.includes(id)
}
