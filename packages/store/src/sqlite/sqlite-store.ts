import { errors, type SpriteStatus, SpritesError } from '@sprites/protocol'
import Database from 'better-sqlite3'
import { assertOrgSlug } from '../org-slug.ts'
import { applyPatch, buildSprite, duplicateName } from '../records.ts'
import type { ListSpritesOptions, NewSprite, SpritePatch, SpriteRecord, Store } from '../store.ts'
import { hashToken, isWellFormedToken, newOrgID, newToken, newTokenID } from '../tokens.ts'
import { migrate } from './migrations.ts'
import {
  type OrgRow,
  orgFromRow,
  type SpriteRow,
  spriteFromRow,
  spriteToRow,
  type TokenRow,
  tokenFromRow,
} from './rows.ts'
import { deleteSpriteCheckpoints, sqliteCheckpoints } from './sqlite-checkpoints.ts'

export interface SQLiteStoreOptions {
  /** Time source for created/updated stamps. @default () => new Date() */
  now?: () => Date
}

type DB = Database.Database

const SPRITE_COLUMNS =
  'id, org_id, name, status, op_state, config, environment, url_settings, labels, runtime, slot, ' +
  'uid_base, version, created_at, updated_at, last_running_at, last_warming_at, last_started_at, ' +
  'last_active_at, lifecycle, policies'
const SPRITE_PARAMS = SPRITE_COLUMNS.split(', ')
  .map((c) => `@${c}`)
  .join(', ')

/**
 * Opens (creating if needed) the SQLite database at `path`, in WAL mode with foreign keys on, and
 * applies pending schema migrations. better-sqlite3 is synchronous; the async methods resolve at once.
 */
export function openSQLiteStore(path: string, options: SQLiteStoreOptions = {}): Store {
  const now = options.now ?? (() => new Date())
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrate(db, now)
  return {
    ...orgMethods(db, now),
    ...tokenMethods(db, now),
    ...spriteMethods(db, now),
    ...sqliteCheckpoints(db, now),
    async close() {
      if (db.open) db.close()
    },
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_UNIQUE'
}

function orgMethods(db: DB, now: () => Date) {
  const byID = db.prepare<[string], OrgRow>('SELECT * FROM orgs WHERE id = ?')
  const bySlug = db.prepare<[string], OrgRow>('SELECT * FROM orgs WHERE slug = ?')
  const insert = db.prepare('INSERT INTO orgs (id, slug, created_at) VALUES (?, ?, ?)')
  return {
    async createOrg(slug: string) {
      assertOrgSlug(slug)
      if (bySlug.get(slug)) throw new SpritesError('conflict', `org ${slug} already exists`)
      let id = newOrgID()
      while (byID.get(id)) id = newOrgID()
      const createdAt = now()
      insert.run(id, slug, createdAt.getTime())
      return { id, slug, createdAt }
    },
    async getOrg(id: string) {
      const row = byID.get(id)
      return row ? orgFromRow(row) : null
    },
    async getOrgBySlug(slug: string) {
      const row = bySlug.get(slug)
      return row ? orgFromRow(row) : null
    },
    async listOrgs() {
      return db.prepare<[], OrgRow>('SELECT * FROM orgs ORDER BY slug').all().map(orgFromRow)
    },
  }
}

function tokenMethods(db: DB, now: () => Date) {
  const org = db.prepare<[string], OrgRow>('SELECT * FROM orgs WHERE id = ?')
  const insert = db.prepare(
    'INSERT INTO tokens (id, org_id, hash, description, created_at) VALUES (?, ?, ?, ?, ?)',
  )
  const byHash = db.prepare<[string], TokenRow>(
    'SELECT id, org_id, description, created_at FROM tokens WHERE hash = ?',
  )
  const byID = db.prepare<[string], TokenRow>(
    'SELECT id, org_id, description, created_at FROM tokens WHERE id = ?',
  )
  const byOrg = db.prepare<[string], TokenRow>(
    'SELECT id, org_id, description, created_at FROM tokens WHERE org_id = ? ORDER BY created_at, rowid',
  )
  return {
    async createToken(orgID: string, description: string) {
      const o = org.get(orgID)
      if (!o) throw errors.invalid(`unknown org id ${orgID}`)
      const record = { id: newTokenID(), orgID, description, createdAt: now() }
      const token = newToken(o.slug, o.id, record.id)
      insert.run(record.id, orgID, hashToken(token), description, record.createdAt.getTime())
      return { token, record }
    },
    async resolveToken(token: string) {
      if (!isWellFormedToken(token)) return null
      const row = byHash.get(hashToken(token))
      const o = row && org.get(row.org_id)
      return row && o ? { org: orgFromRow(o), token: tokenFromRow(row) } : null
    },
    async revokeToken(tokenID: string) {
      db.prepare('DELETE FROM tokens WHERE id = ?').run(tokenID)
    },
    async getToken(tokenID: string) {
      const row = byID.get(tokenID)
      return row ? tokenFromRow(row) : null
    },
    async listTokens(orgID: string) {
      return byOrg.all(orgID).map(tokenFromRow)
    },
  }
}

function spriteMethods(db: DB, now: () => Date) {
  const byID = db.prepare<[string], SpriteRow>('SELECT * FROM sprites WHERE id = ?')
  const byName = db.prepare<[string, string], SpriteRow>(
    'SELECT * FROM sprites WHERE org_id = ? AND name = ?',
  )
  // Lowest free slot ≥ 1: 1 itself, else the smallest slot+1 that nobody holds.
  const freeSlot = db.prepare<[], { slot: number }>(`
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM sprites WHERE slot = 1) THEN 1 ELSE
      (SELECT MIN(a.slot + 1) FROM sprites a
        WHERE NOT EXISTS (SELECT 1 FROM sprites b WHERE b.slot = a.slot + 1)) END AS slot`)
  const insert = db.prepare(`INSERT INTO sprites (${SPRITE_COLUMNS}) VALUES (${SPRITE_PARAMS})`)
  const replace = db.prepare(`REPLACE INTO sprites (${SPRITE_COLUMNS}) VALUES (${SPRITE_PARAMS})`)
  const insertTx = db.transaction((input: NewSprite): SpriteRecord => {
    if (byName.get(input.orgID, input.name)) throw duplicateName(input.name)
    const sprite = buildSprite(input, freeSlot.get()!.slot, now())
    insert.run(spriteToRow(sprite))
    return sprite
  })
  const updateTx = db.transaction((id: string, patch: SpritePatch): SpriteRecord => {
    const row = byID.get(id)
    if (!row) throw new SpritesError('sprite_not_found', `sprite not found: ${id}`)
    const next = applyPatch(spriteFromRow(row), patch, now())
    replace.run(spriteToRow(next))
    return next
  })
  return {
    async insertSprite(input: NewSprite) {
      try {
        return insertTx(input)
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicateName(input.name)
        if ((err as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          throw errors.invalid(`unknown org id ${input.orgID}`)
        }
        throw err
      }
    },
    async getSprite(orgID: string, name: string) {
      const row = byName.get(orgID, name)
      return row ? spriteFromRow(row) : null
    },
    async getSpriteByID(id: string) {
      const row = byID.get(id)
      return row ? spriteFromRow(row) : null
    },
    async listSprites(orgID: string, opts: ListSpritesOptions) {
      return listQuery(db, orgID, opts).map(spriteFromRow)
    },
    async listAllSprites() {
      const q = db.prepare<[], SpriteRow>('SELECT * FROM sprites ORDER BY org_id, name')
      return q.all().map(spriteFromRow)
    },
    async countSprites(orgID: string) {
      const q = db.prepare<[string], { status: SpriteStatus; n: number }>(
        'SELECT status, COUNT(*) AS n FROM sprites WHERE org_id = ? GROUP BY status',
      )
      const counts: Record<SpriteStatus, number> = { cold: 0, warm: 0, running: 0 }
      for (const r of q.all(orgID)) counts[r.status] = r.n
      return counts
    },
    async updateSprite(id: string, patch: SpritePatch) {
      return updateTx(id, patch)
    },
    async deleteSprite(id: string) {
      db.prepare('DELETE FROM sprites WHERE id = ?').run(id)
      deleteSpriteCheckpoints(db, id)
    },
  }
}

function listQuery(db: DB, orgID: string, opts: ListSpritesOptions): SpriteRow[] {
  const where = ['org_id = @orgID']
  if (opts.prefix) where.push('substr(name, 1, length(@prefix)) = @prefix')
  if (opts.after !== undefined) where.push('name > @after')
  const sql = `SELECT * FROM sprites WHERE ${where.join(' AND ')} ORDER BY name LIMIT @limit`
  const limit = Math.max(0, Math.min(Math.floor(opts.limit), Number.MAX_SAFE_INTEGER))
  return db
    .prepare<[Record<string, unknown>], SpriteRow>(sql)
    .all({ orgID, prefix: opts.prefix ?? '', after: opts.after ?? '', limit })
}
