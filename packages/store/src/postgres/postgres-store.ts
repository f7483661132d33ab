import { errors, SpritesError } from '@sprites/protocol'
import { assertOrgSlug } from '../org-slug.ts'
import { type OrgRow, orgFromRow, type TokenRow, tokenFromRow } from '../sqlite/rows.ts'
import type { OrgRecord, Store } from '../store.ts'
import { hashToken, isWellFormedToken, newOrgID, newToken, newTokenID } from '../tokens.ts'
import { postgresCheckpoints } from './pg-checkpoints.ts'
import { createPgDB, isUniqueViolation, type PgDB } from './pg-db.ts'
import { migratePostgres } from './pg-migrations.ts'
import { postgresSprites } from './pg-sprites.ts'
import { POSTGRES_URL_RE, redactDatabaseURL } from './pg-url.ts'

/** The one log call the store makes: a pooled connection failed while idle. */
export interface PostgresStoreLogger {
  warn(context: object, msg?: string): void
}

export interface PostgresStoreOptions {
  /** Time source for created/updated stamps. @default () => new Date() */
  now?: () => Date
  /** Most connections the store's pool opens at once. @default 10 */
  maxConnections?: number
  /** Where idle-connection failures are reported. @default ignored (the next query reconnects) */
  log?: PostgresStoreLogger
}

const TOKEN_COLUMNS = 'id, org_id, description, created_at'

/**
 * Opens a Store on the PostgreSQL database at `url` (`postgres://` or `postgresql://`, in the
 * forms `pg` takes, e.g. `postgres:///sprites?host=/run/postgresql&user=sprites` for a unix
 * socket), creating the schema or applying pending migrations. The store holds a pool of
 * connections; `close()` ends it. Errors name the database with its password replaced by `***`.
 * @throws SpritesError invalid_argument for another scheme; internal when the database cannot
 *   be reached or migrated.
 * @example const store = await openPostgresStore('postgres://sprites@db.internal/sprites')
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  if (!POSTGRES_URL_RE.test(url)) {
    throw errors.invalid('the PostgreSQL store takes a postgres:// or postgresql:// URL')
  }
  const now = options.now ?? (() => new Date())
  const db = createPgDB(url, {
    maxConnections: options.maxConnections ?? 10,
    onIdleError: (err) => options.log?.warn({ err }, 'PostgreSQL connection lost while idle'),
  })
  try {
    await migratePostgres(db, now)
  } catch (err) {
    await db.end().catch(() => undefined)
    throw new SpritesError(
      'internal',
      `cannot open the PostgreSQL store at ${redactDatabaseURL(url)}: ${(err as Error).message}`,
      { cause: err },
    )
  }
  let closed: Promise<void> | undefined
  return {
    ...orgMethods(db, now),
    ...tokenMethods(db, now),
    ...postgresSprites(db, now),
    ...postgresCheckpoints(db, now),
    async claimServer(onLost) {
      if (!(await db.holdLock('spritesd-server', onLost))) {
        throw new SpritesError(
          'conflict',
          `another spritesd is using the database ${redactDatabaseURL(url)}; stop it first`,
        )
      }
    },
    close() {
      closed ??= db.end()
      return closed
    },
  }
}

function orgMethods(db: PgDB, now: () => Date) {
  const one = async (sql: string, value: string): Promise<OrgRecord | null> => {
    const { rows } = await db.query<OrgRow>(sql, [value])
    return rows[0] ? orgFromRow(rows[0]) : null
  }
  return {
    /** A taken slug is a conflict; an id that collides with another org's is drawn again. */
    async createOrg(slug: string): Promise<OrgRecord> {
      assertOrgSlug(slug)
      for (;;) {
        const org = { id: newOrgID(), slug, createdAt: now() }
        try {
          await db.query('INSERT INTO orgs (id, slug, created_at) VALUES ($1, $2, $3)', [
            org.id,
            slug,
            org.createdAt.getTime(),
          ])
          return org
        } catch (err) {
          if (isUniqueViolation(err, 'orgs_slug_key')) {
            throw new SpritesError('conflict', `org ${slug} already exists`)
          }
          if (!isUniqueViolation(err, 'orgs_pkey')) throw err
        }
      }
    },
    getOrg: (id: string) => one('SELECT * FROM orgs WHERE id = $1', id),
    getOrgBySlug: (slug: string) => one('SELECT * FROM orgs WHERE slug = $1', slug),
    async listOrgs() {
      const { rows } = await db.query<OrgRow>('SELECT * FROM orgs ORDER BY slug')
      return rows.map(orgFromRow)
    },
  }
}

function tokenMethods(db: PgDB, now: () => Date) {
  const tokens = async (sql: string, value: string) => {
    const { rows } = await db.query<TokenRow>(sql, [value])
    return rows.map(tokenFromRow)
  }
  return {
    async createToken(orgID: string, description: string) {
      const { rows } = await db.query<OrgRow>('SELECT * FROM orgs WHERE id = $1', [orgID])
      const org = rows[0]
      if (!org) throw errors.invalid(`unknown org id ${orgID}`)
      const record = { id: newTokenID(), orgID, description, createdAt: now() }
      const token = newToken(org.slug, org.id, record.id)
      await db.query(
        'INSERT INTO tokens (id, org_id, hash, description, created_at) VALUES ($1, $2, $3, $4, $5)',
        [record.id, orgID, hashToken(token), description, record.createdAt.getTime()],
      )
      return { token, record }
    },
    async resolveToken(token: string) {
      if (!isWellFormedToken(token)) return null
      const { rows } = await db.query<TokenRow & { slug: string; org_created_at: number }>(
        `SELECT t.id, t.org_id, t.description, t.created_at, o.slug, o.created_at AS org_created_at
         FROM tokens t JOIN orgs o ON o.id = t.org_id WHERE t.hash = $1`,
        [hashToken(token)],
      )
      const r = rows[0]
      if (!r) return null
      const org = orgFromRow({ id: r.org_id, slug: r.slug, created_at: r.org_created_at })
      return { org, token: tokenFromRow(r) }
    },
    async revokeToken(tokenID: string) {
      await db.query('DELETE FROM tokens WHERE id = $1', [tokenID])
    },
    async getToken(tokenID: string) {
      return (await tokens(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1`, tokenID))[0] ?? null
    },
    listTokens: (orgID: string) =>
      tokens(
        `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE org_id = $1 ORDER BY created_at, seq`,
        orgID,
      ),
  }
}
