import { errors, type SpriteStatus, SpritesError } from '@sprites/protocol'
import { applyPatch, buildSprite, duplicateName } from '../records.ts'
import { type SpriteRow, spriteFromRow, spriteToRow } from '../sqlite/rows.ts'
import type { ListSpritesOptions, NewSprite, SpritePatch, SpriteRecord } from '../store.ts'
import { deleteSpriteCheckpoints } from './pg-checkpoints.ts'
import { isForeignKeyViolation, isUniqueViolation, type PgDB, type Queryable } from './pg-db.ts'
import { PG_LOCK_SLOTS, PG_LOCK_SPACE } from './pg-migrations.ts'

// Rows have the SQLite store's shape (sqlite/rows.ts): bigint columns arrive as numbers (pg-db.ts).
const COLUMNS: readonly (keyof SpriteRow)[] = [
  'id',
  'org_id',
  'name',
  'status',
  'op_state',
  'config',
  'environment',
  'url_settings',
  'labels',
  'runtime',
  'slot',
  'uid_base',
  'version',
  'created_at',
  'updated_at',
  'last_running_at',
  'last_warming_at',
  'last_started_at',
  'last_active_at',
  'lifecycle',
  'policies',
]
const COLUMN_LIST = COLUMNS.join(', ')
const PARAMS = COLUMNS.map((_, i) => `$${i + 1}`).join(', ')
const INSERT = `INSERT INTO sprites (${COLUMN_LIST}) VALUES (${PARAMS})`
// Every column but id ($1) is rewritten from the patched record.
const UPDATE = `UPDATE sprites SET (${COLUMN_LIST}) = (${PARAMS}) WHERE id = $1`

// Lowest free slot ≥ 1: 1 itself, else the smallest slot+1 that nobody holds.
const FREE_SLOT = `
  SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM sprites WHERE slot = 1) THEN 1 ELSE
    (SELECT MIN(a.slot + 1) FROM sprites a
      WHERE NOT EXISTS (SELECT 1 FROM sprites b WHERE b.slot = a.slot + 1)) END AS slot`

const values = (s: SpriteRecord): unknown[] => {
  const row = spriteToRow(s)
  return COLUMNS.map((c) => row[c])
}

/**
 * Inserts under the slots advisory lock: every insert, from any connection or process on this
 * database, takes the lock before reading the free slot and holds it to commit, so the next one
 * reads a snapshot that already has this sprite (READ COMMITTED takes a snapshot per statement,
 * after the lock was granted). Inserts queue; reads and updates never wait for it. The unique
 * constraints stay as the last guard: a name taken at once by two inserts fails the second with
 * `sprite_already_exists`.
 */
async function insertSprite(db: PgDB, input: NewSprite, now: () => Date): Promise<SpriteRecord> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [PG_LOCK_SPACE, PG_LOCK_SLOTS])
      const { rows } = await tx.query<{ slot: number }>(FREE_SLOT)
      const sprite = buildSprite(input, rows[0]!.slot, now())
      await tx.query(INSERT, values(sprite))
      return sprite
    })
  } catch (err) {
    if (isUniqueViolation(err, 'sprites_org_name_key')) throw duplicateName(input.name)
    if (isForeignKeyViolation(err)) throw errors.invalid(`unknown org id ${input.orgID}`)
    throw err
  }
}

/** Read, patch and write back one row under its row lock, so concurrent patches all apply. */
async function updateSprite(
  db: PgDB,
  id: string,
  patch: SpritePatch,
  now: () => Date,
): Promise<SpriteRecord> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<SpriteRow>('SELECT * FROM sprites WHERE id = $1 FOR UPDATE', [
      id,
    ])
    if (!rows[0]) throw new SpritesError('sprite_not_found', `sprite not found: ${id}`)
    const next = applyPatch(spriteFromRow(rows[0]), patch, now())
    await tx.query(UPDATE, values(next))
    return next
  })
}

async function selectSprites(db: Queryable, sql: string, params: unknown[] = []) {
  const { rows } = await db.query<SpriteRow>(sql, params)
  return rows.map(spriteFromRow)
}

/** The sprite half of the PostgreSQL `Store`. */
export function postgresSprites(db: PgDB, now: () => Date) {
  return {
    insertSprite: (input: NewSprite) => insertSprite(db, input, now),
    async getSprite(orgID: string, name: string) {
      const sql = 'SELECT * FROM sprites WHERE org_id = $1 AND name = $2'
      return (await selectSprites(db, sql, [orgID, name]))[0] ?? null
    },
    async getSpriteByID(id: string) {
      return (await selectSprites(db, 'SELECT * FROM sprites WHERE id = $1', [id]))[0] ?? null
    },
    listSprites: (orgID: string, opts: ListSpritesOptions) => listSprites(db, orgID, opts),
    listAllSprites: () => selectSprites(db, 'SELECT * FROM sprites ORDER BY org_id, name'),
    async countSprites(orgID: string) {
      const { rows } = await db.query<{ status: SpriteStatus; n: number }>(
        'SELECT status, COUNT(*) AS n FROM sprites WHERE org_id = $1 GROUP BY status',
        [orgID],
      )
      const counts: Record<SpriteStatus, number> = { cold: 0, warm: 0, running: 0 }
      for (const r of rows) counts[r.status] = r.n
      return counts
    },
    updateSprite: (id: string, patch: SpritePatch) => updateSprite(db, id, patch, now),
    async deleteSprite(id: string) {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM sprites WHERE id = $1', [id])
        await deleteSpriteCheckpoints(tx, id)
      })
    },
  }
}

/** Names in byte order (the columns are COLLATE "C"); `prefix` is matched literally, not as LIKE. */
function listSprites(db: PgDB, orgID: string, opts: ListSpritesOptions): Promise<SpriteRecord[]> {
  const params: unknown[] = [orgID]
  const where = ['org_id = $1']
  if (opts.prefix) {
    params.push(opts.prefix)
    where.push(`substr(name, 1, length($${params.length})) = $${params.length}`)
  }
  if (opts.after !== undefined) {
    params.push(opts.after)
    where.push(`name > $${params.length}`)
  }
  params.push(Math.max(0, Math.min(Math.floor(opts.limit), Number.MAX_SAFE_INTEGER)))
  const sql = `SELECT * FROM sprites WHERE ${where.join(' AND ')} ORDER BY name LIMIT $${params.length}`
  return selectSprites(db, sql, params)
}
