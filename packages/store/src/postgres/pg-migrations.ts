import type { Migration } from '../sqlite/migrations.ts'
import type { PgDB } from './pg-db.ts'

/**
 * Advisory-lock keys of the store (`pg_advisory_xact_lock(PG_LOCK_SPACE, key)`): one namespace
 * for the project, one key per serialized operation. Advisory locks are per database.
 */
export const PG_LOCK_SPACE = 0x5350_5254
export const PG_LOCK_MIGRATIONS = 1
export const PG_LOCK_SLOTS = 2

/**
 * Every schema change of the PostgreSQL store, oldest first: the same logical schema as the
 * SQLite migrations (sqlite/migrations.ts) in PostgreSQL's dialect. A shipped migration is never
 * edited; add a new one.
 *
 * Times are BIGINT epoch milliseconds (as SQLite's INTEGER), JSON documents are TEXT holding the
 * exact JSON written (key order kept, as in SQLite). Names and ids that are ordered or compared
 * by range use COLLATE "C": byte order, as SQLite's BINARY collation and the memory store give.
 * `seq` columns stand for SQLite's rowid: insertion order where lists need it.
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orgs, tokens, sprites, checkpoints',
    sql: `
      CREATE TABLE orgs (
        id TEXT COLLATE "C" PRIMARY KEY,
        slug TEXT COLLATE "C" NOT NULL CONSTRAINT orgs_slug_key UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY
      );
      CREATE INDEX tokens_org_idx ON tokens (org_id, created_at, seq);
      CREATE TABLE sprites (
        id TEXT PRIMARY KEY,
        org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
        name TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        op_state TEXT NOT NULL,
        config TEXT NOT NULL,
        environment TEXT NOT NULL,
        url_settings TEXT NOT NULL,
        labels TEXT NOT NULL,
        runtime TEXT NOT NULL,
        slot INTEGER NOT NULL CONSTRAINT sprites_slot_key UNIQUE,
        uid_base BIGINT NOT NULL,
        version TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_running_at BIGINT,
        last_warming_at BIGINT,
        last_started_at BIGINT,
        last_active_at BIGINT,
        lifecycle TEXT,
        policies TEXT,
        CONSTRAINT sprites_org_name_key UNIQUE (org_id, name)
      );
      CREATE TABLE checkpoints (
        sprite_id TEXT NOT NULL,
        id TEXT NOT NULL,
        is_auto BOOLEAN NOT NULL,
        comment TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        source_id TEXT,
        history TEXT NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (sprite_id, id)
      );
      CREATE TABLE checkpoint_state (
        sprite_id TEXT PRIMARY KEY,
        next_v INTEGER NOT NULL,
        next_auto INTEGER NOT NULL,
        current_id TEXT,
        restored_id TEXT
      );
    `,
  },
]

/**
 * Applies every migration not yet recorded in `schema_migrations`, all in one transaction under
 * an advisory lock: two processes opening a fresh database at once apply each migration once,
 * and a failed migration leaves the schema as it was (PostgreSQL's DDL is transactional).
 */
export async function migratePostgres(db: PgDB, now: () => Date): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [PG_LOCK_SPACE, PG_LOCK_MIGRATIONS])
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const done = new Set(rows.map((r) => r.version))
    const applied: number[] = []
    for (const m of PG_MIGRATIONS) {
      if (done.has(m.version)) continue
      await tx.query(m.sql)
      await tx.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [m.version, m.name, now().getTime()],
      )
      applied.push(m.version)
    }
    return applied
  })
}
