import { SpritesError } from '@sprites/protocol'
import type { CheckpointKind, CheckpointRecord, CheckpointStore } from '../checkpoints.ts'
import type { PgDB, Queryable } from './pg-db.ts'

interface CheckpointRow {
  sprite_id: string
  id: string
  is_auto: boolean
  comment: string
  created_at: number
  source_id: string | null
  history: string
}

interface StateRow {
  current_id: string | null
  restored_id: string | null
}

const COLUMNS = 'sprite_id, id, is_auto, comment, created_at, source_id, history'

function fromRow(r: CheckpointRow): CheckpointRecord {
  return {
    spriteID: r.sprite_id,
    id: r.id,
    isAuto: r.is_auto,
    comment: r.comment,
    createdAt: new Date(r.created_at),
    sourceID: r.source_id,
    history: JSON.parse(r.history) as string[],
  }
}

/**
 * One statement reserves the next number of a kind: the upsert creates the sprite's counter row
 * (number 0 of `v`, 1 of `auto`, handed out at once) or bumps it, and returns the number before
 * the bump. PostgreSQL row-locks the counter row for the statement, so concurrent allocations
 * for one sprite queue on it and each gets its own number; the counter only grows, so numbers
 * are never handed out twice, also after deletes.
 */
const ALLOCATE: Record<CheckpointKind, string> = {
  v: `INSERT INTO checkpoint_state (sprite_id, next_v, next_auto) VALUES ($1, 1, 1)
      ON CONFLICT (sprite_id) DO UPDATE SET next_v = checkpoint_state.next_v + 1
      RETURNING next_v - 1 AS n`,
  auto: `INSERT INTO checkpoint_state (sprite_id, next_v, next_auto) VALUES ($1, 0, 2)
      ON CONFLICT (sprite_id) DO UPDATE SET next_auto = checkpoint_state.next_auto + 1
      RETURNING next_auto - 1 AS n`,
}

const ENSURE_STATE = `INSERT INTO checkpoint_state (sprite_id, next_v, next_auto)
  VALUES ($1, 0, 1) ON CONFLICT (sprite_id) DO NOTHING`

/** The PostgreSQL half of `CheckpointStore` (tables of migration 1). */
export function postgresCheckpoints(db: PgDB, now: () => Date): CheckpointStore {
  return {
    async allocateCheckpointID(spriteID, kind) {
      const { rows } = await db.query<{ n: number }>(ALLOCATE[kind], [spriteID])
      const n = rows[0]!.n
      return kind === 'v' ? `v${n}` : `auto-${n}`
    },
    async insertCheckpoint(input) {
      const record = { ...input, createdAt: input.createdAt ?? now() }
      return db.transaction(async (tx) => {
        const inserted = await tx.query(
          `INSERT INTO checkpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (sprite_id, id) DO NOTHING`,
          [
            record.spriteID,
            record.id,
            record.isAuto,
            record.comment,
            record.createdAt.getTime(),
            record.sourceID,
            JSON.stringify(record.history),
          ],
        )
        if (inserted.rowCount === 0) {
          throw new SpritesError('conflict', `checkpoint ${record.id} already exists`)
        }
        await tx.query(ENSURE_STATE, [record.spriteID])
        if (!record.isAuto) {
          await tx.query('UPDATE checkpoint_state SET current_id = $2 WHERE sprite_id = $1', [
            record.spriteID,
            record.id,
          ])
        }
        return record
      })
    },
    async getCheckpoint(spriteID, id) {
      const { rows } = await db.query<CheckpointRow>(
        `SELECT ${COLUMNS} FROM checkpoints WHERE sprite_id = $1 AND id = $2`,
        [spriteID, id],
      )
      return rows[0] ? fromRow(rows[0]) : null
    },
    async listCheckpoints(spriteID) {
      const { rows } = await db.query<CheckpointRow>(
        `SELECT ${COLUMNS} FROM checkpoints WHERE sprite_id = $1 ORDER BY seq DESC`,
        [spriteID],
      )
      return rows.map(fromRow)
    },
    async deleteCheckpoint(spriteID, id) {
      await db.query('DELETE FROM checkpoints WHERE sprite_id = $1 AND id = $2', [spriteID, id])
    },
    async getCheckpointState(spriteID) {
      const { rows } = await db.query<StateRow>(
        'SELECT current_id, restored_id FROM checkpoint_state WHERE sprite_id = $1',
        [spriteID],
      )
      const s = rows[0]
      return {
        initialized: s !== undefined,
        currentID: s?.current_id ?? null,
        restoredID: s?.restored_id ?? null,
      }
    },
    async setCurrentCheckpoint(spriteID, id) {
      await db.query(
        `INSERT INTO checkpoint_state (sprite_id, next_v, next_auto, current_id, restored_id)
         VALUES ($1, 0, 1, $2, $2)
         ON CONFLICT (sprite_id) DO UPDATE SET current_id = $2, restored_id = $2`,
        [spriteID, id],
      )
    },
  }
}

/** Removes a deleted sprite's checkpoint rows, inside `deleteSprite`'s transaction. */
export async function deleteSpriteCheckpoints(tx: Queryable, spriteID: string): Promise<void> {
  await tx.query('DELETE FROM checkpoints WHERE sprite_id = $1', [spriteID])
  await tx.query('DELETE FROM checkpoint_state WHERE sprite_id = $1', [spriteID])
}
