export {
  type CheckpointKind,
  type CheckpointRecord,
  type CheckpointState,
  type CheckpointStore,
  type NewCheckpoint,
  parseCheckpointID,
} from './checkpoints.ts'
export { createMemoryStore, type MemoryStoreOptions } from './memory/memory-store.ts'
export { ORG_SLUG_RE } from './org-slug.ts'
export { POSTGRES_URL_RE, redactDatabaseURL } from './postgres/pg-url.ts'
export {
  openPostgresStore,
  type PostgresStoreLogger,
  type PostgresStoreOptions,
} from './postgres/postgres-store.ts'
export { MIGRATIONS, type Migration } from './sqlite/migrations.ts'
export { openSQLiteStore, type SQLiteStoreOptions } from './sqlite/sqlite-store.ts'
export type * from './store.ts'
export { hashToken, TOKEN_SECRET_BYTES, uidBaseForSlot } from './tokens.ts'
