/** Kinds of checkpoint: `v` = `v<N>` (user, `v0` pristine), `auto` = `auto-<N>` (restore backups). */
export type CheckpointKind = 'v' | 'auto'

/** One filesystem checkpoint of a sprite (sprites-api.md §6). */
export interface CheckpointRecord {
  readonly spriteID: string
  /** `v<N>` or `auto-<N>`; numbers come from a per-sprite counter and are never reused. */
  readonly id: string
  readonly isAuto: boolean
  readonly comment: string
  readonly createdAt: Date
  /** The checkpoint the live state descended from when this one was taken. */
  readonly sourceID: string | null
  /** Ancestors, nearest first (`sourceID` first). */
  readonly history: string[]
}

export type NewCheckpoint = Omit<CheckpointRecord, 'createdAt'> & { createdAt?: Date }

/** Per-sprite checkpoint bookkeeping. */
export interface CheckpointState {
  /** Whether `initCheckpoints` ran for the sprite. */
  readonly initialized: boolean
  /** The checkpoint the live state descends from (last created or restored); null before `v0`. */
  readonly currentID: string | null
  /** The checkpoint most recently restored (the one the sprite is "on"); null before any restore. */
  readonly restoredID: string | null
}

/** Checkpoint records; part of `Store`. A sprite's records go with `deleteSprite`. */
export interface CheckpointStore {
  /**
   * Reserves the next id of a kind for the sprite (`v0`, `v1`, … / `auto-1`, `auto-2`, …):
   * numbers are never handed out twice, also after deletes.
   */
  allocateCheckpointID(spriteID: string, kind: CheckpointKind): Promise<string>
  /** Stores a checkpoint; `currentID` moves to it unless it is an auto checkpoint. */
  insertCheckpoint(input: NewCheckpoint): Promise<CheckpointRecord>
  getCheckpoint(spriteID: string, id: string): Promise<CheckpointRecord | null>
  /** Every checkpoint of the sprite (auto ones too), newest first. */
  listCheckpoints(spriteID: string): Promise<CheckpointRecord[]>
  deleteCheckpoint(spriteID: string, id: string): Promise<void>
  getCheckpointState(spriteID: string): Promise<CheckpointState>
  /** After a restore: the live state descends from `id`, and `id` is the restored one. */
  setCurrentCheckpoint(spriteID: string, id: string): Promise<void>
}

/** Parses `v3` / `auto-2` into kind and number; null for anything else. */
export function parseCheckpointID(id: string): { kind: CheckpointKind; n: number } | null {
  const m = /^(v|auto-)(0|[1-9][0-9]{0,8})$/.exec(id)
  if (!m) return null
  return { kind: m[1] === 'v' ? 'v' : 'auto', n: Number(m[2]) }
}
