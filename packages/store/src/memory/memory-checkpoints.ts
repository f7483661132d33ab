import { SpritesError } from '@sprites/protocol'
import type {
  CheckpointKind,
  CheckpointRecord,
  CheckpointState,
  CheckpointStore,
  NewCheckpoint,
} from '../checkpoints.ts'

interface SpriteCheckpoints {
  next: Record<CheckpointKind, number>
  currentID: string | null
  restoredID: string | null
  /** Oldest first. */
  records: CheckpointRecord[]
}

/** The in-memory half of `CheckpointStore`; `forget` drops a deleted sprite's records. */
export function memoryCheckpoints(now: () => Date): CheckpointStore & {
  forget(spriteID: string): void
} {
  const all = new Map<string, SpriteCheckpoints>()
  const of = (spriteID: string): SpriteCheckpoints => {
    let s = all.get(spriteID)
    if (!s) {
      s = { next: { v: 0, auto: 1 }, currentID: null, restoredID: null, records: [] }
      all.set(spriteID, s)
    }
    return s
  }
  const copy = <T>(v: T): T => structuredClone(v)
  return {
    async allocateCheckpointID(spriteID, kind) {
      const s = of(spriteID)
      const n = s.next[kind]++
      return kind === 'v' ? `v${n}` : `auto-${n}`
    },
    async insertCheckpoint(input: NewCheckpoint) {
      const s = of(input.spriteID)
      if (s.records.some((r) => r.id === input.id)) {
        throw new SpritesError('conflict', `checkpoint ${input.id} already exists`)
      }
      const record: CheckpointRecord = { ...copy(input), createdAt: input.createdAt ?? now() }
      s.records.push(record)
      if (!record.isAuto) s.currentID = record.id
      return copy(record)
    },
    async getCheckpoint(spriteID, id) {
      const hit = all.get(spriteID)?.records.find((r) => r.id === id)
      return hit ? copy(hit) : null
    },
    async listCheckpoints(spriteID) {
      return [...(all.get(spriteID)?.records ?? [])].reverse().map(copy)
    },
    async deleteCheckpoint(spriteID, id) {
      const s = all.get(spriteID)
      if (s) s.records = s.records.filter((r) => r.id !== id)
    },
    async getCheckpointState(spriteID): Promise<CheckpointState> {
      const s = all.get(spriteID)
      return {
        initialized: s !== undefined,
        currentID: s?.currentID ?? null,
        restoredID: s?.restoredID ?? null,
      }
    },
    async setCurrentCheckpoint(spriteID, id) {
      const s = of(spriteID)
      s.currentID = id
      s.restoredID = id
    },
    forget(spriteID) {
      all.delete(spriteID)
    },
  }
}
