import { SpritesError } from '@sprites/protocol'
import type Database from 'better-sqlite3'
import type {
  CheckpointKind,
  CheckpointRecord,
  CheckpointStore,
  NewCheckpoint,
} from '../checkpoints.ts'

interface CheckpointRow {
  sprite_id: string
  id: string
  is_auto: number
  comment: string
  created_at: number
  source_id: string | null
  history: string
}

interface StateRow {
  next_v: number
  next_auto: number
  current_id: string | null
  restored_id: string | null
}

function fromRow(r: CheckpointRow): CheckpointRecord {
  return {
    spriteID: r.sprite_id,
    id: r.id,
    isAuto: r.is_auto === 1,
    comment: r.comment,
    createdAt: new Date(r.created_at),
    sourceID: r.source_id,
    history: JSON.parse(r.history) as string[],
  }
}

/** The SQLite half of `CheckpointStore` (tables of migration 2). */
export function sqliteCheckpoints(db: Database.Database, now: () => Date): CheckpointStore {
  const state = db.prepare<[string], StateRow>(
    'SELECT next_v, next_auto, current_id, restored_id FROM checkpoint_state WHERE sprite_id = ?',
  )
  const ensureState = db.prepare(
    'INSERT OR IGNORE INTO checkpoint_state (sprite_id, next_v, next_auto, current_id) VALUES (?, 0, 1, NULL)',
  )
  const one = db.prepare<[string, string], CheckpointRow>(
    'SELECT * FROM checkpoints WHERE sprite_id = ? AND id = ?',
  )
  const setCurrent = db.prepare('UPDATE checkpoint_state SET current_id = ? WHERE sprite_id = ?')
  const allocate = db.transaction((spriteID: string, kind: CheckpointKind): string => {
    ensureState.run(spriteID)
    const s = state.get(spriteID) as StateRow
    const column = kind === 'v' ? 'next_v' : 'next_auto'
    const n = kind === 'v' ? s.next_v : s.next_auto
    db.prepare(`UPDATE checkpoint_state SET ${column} = ? WHERE sprite_id = ?`).run(n + 1, spriteID)
    return kind === 'v' ? `v${n}` : `auto-${n}`
  })
  const insert = db.transaction((input: NewCheckpoint): CheckpointRecord => {
    if (one.get(input.spriteID, input.id)) {
      throw new SpritesError('conflict', `checkpoint ${input.id} already exists`)
    }
    const record = { ...input, createdAt: input.createdAt ?? now() }
    db.prepare(
      `INSERT INTO checkpoints (sprite_id, id, is_auto, comment, created_at, source_id, history)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.spriteID,
      record.id,
      record.isAuto ? 1 : 0,
      record.comment,
      record.createdAt.getTime(),
      record.sourceID,
      JSON.stringify(record.history),
    )
    ensureState.run(record.spriteID)
    if (!record.isAuto) setCurrent.run(record.id, record.spriteID)
    return record
  })
  return {
    async allocateCheckpointID(spriteID, kind) {
      return allocate(spriteID, kind)
    },
    async insertCheckpoint(input) {
      return insert(input)
    },
    async getCheckpoint(spriteID, id) {
      const row = one.get(spriteID, id)
      return row ? fromRow(row) : null
    },
    async listCheckpoints(spriteID) {
      const q = db.prepare<[string], CheckpointRow>(
        'SELECT * FROM checkpoints WHERE sprite_id = ? ORDER BY rowid DESC',
      )
      return q.all(spriteID).map(fromRow)
    },
    async deleteCheckpoint(spriteID, id) {
      db.prepare('DELETE FROM checkpoints WHERE sprite_id = ? AND id = ?').run(spriteID, id)
    },
    async getCheckpointState(spriteID) {
      const s = state.get(spriteID)
      return {
        initialized: s !== undefined,
        currentID: s?.current_id ?? null,
        restoredID: s?.restored_id ?? null,
      }
    },
    async setCurrentCheckpoint(spriteID, id) {
      ensureState.run(spriteID)
      setCurrent.run(id, spriteID)
      db.prepare('UPDATE checkpoint_state SET restored_id = ? WHERE sprite_id = ?').run(
        id,
        spriteID,
      )
    },
  }
}

/** Removes a deleted sprite's checkpoint rows (called by `deleteSprite`). */
export function deleteSpriteCheckpoints(db: Database.Database, spriteID: string): void {
  db.prepare('DELETE FROM checkpoints WHERE sprite_id = ?').run(spriteID)
  db.prepare('DELETE FROM checkpoint_state WHERE sprite_id = ?').run(spriteID)
}
