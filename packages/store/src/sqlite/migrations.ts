/** A schema step; `version` values are applied in ascending order, each exactly once. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** Every schema change, oldest first. A shipped migration is never edited; add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orgs, tokens, sprites',
    sql: `
      CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE sprites (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        op_state TEXT NOT NULL,
        config TEXT NOT NULL,
        environment TEXT NOT NULL,
        url_settings TEXT NOT NULL,
        labels TEXT NOT NULL,
        runtime TEXT NOT NULL,
        slot INTEGER NOT NULL UNIQUE,
        uid_base INTEGER NOT NULL,
        version TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_running_at INTEGER,
        last_warming_at INTEGER,
        last_started_at INTEGER,
        last_active_at INTEGER,
        UNIQUE (org_id, name)
      );
    `,
  },
  {
    version: 2,
    name: 'checkpoints',
    sql: `
      CREATE TABLE checkpoints (
        sprite_id TEXT NOT NULL,
        id TEXT NOT NULL,
        is_auto INTEGER NOT NULL,
        comment TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        source_id TEXT,
        history TEXT NOT NULL,
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
  {
    version: 3,
    name: 'per-sprite lifecycle timings',
    // JSON {"warmAfterS"?, "coldAfterS"?}; NULL = the server's settings.
    sql: 'ALTER TABLE sprites ADD COLUMN lifecycle TEXT;',
  },
  {
    version: 4,
    name: 'per-sprite policies',
    // JSON {"network"?, "privileges"?, "resources"?} (§8); NULL = no policy set.
    sql: 'ALTER TABLE sprites ADD COLUMN policies TEXT;',
  },
]

/** The narrow part of better-sqlite3 that migrations need. */
export interface MigratableDatabase {
  exec(sql: string): unknown
  prepare(sql: string): {
    all(...params: unknown[]): unknown[]
    run(...params: unknown[]): unknown
  }
  transaction(fn: () => void): () => void
}

/** Applies every migration not yet recorded in `schema_migrations`, each in its own transaction. */
export function migrate(db: MigratableDatabase, now: () => Date): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]
  const done = new Set(rows.map((r) => r.version))
  const applied: number[] = []
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        now().getTime(),
      )
    })()
    applied.push(m.version)
  }
  return applied
}
