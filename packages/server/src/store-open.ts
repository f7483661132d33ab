import { existsSync } from 'node:fs'
import {
  openPostgresStore,
  openSQLiteStore,
  type PostgresStoreLogger,
  redactDatabaseURL,
  type Store,
} from '@sprites/store'
import type { ServerConfig } from './config.ts'

type StoreConfig = Pick<ServerConfig, 'dbPath' | 'databaseURL'>

/**
 * Opens the configured store: the PostgreSQL database of `databaseURL` when set, else the SQLite
 * file at `dbPath` (created if missing). Either way pending migrations are applied.
 * @throws SpritesError internal when PostgreSQL cannot be reached (the message redacts the password).
 */
export async function openConfiguredStore(
  config: StoreConfig,
  log?: PostgresStoreLogger,
): Promise<Store> {
  if (config.databaseURL) return openPostgresStore(config.databaseURL, { log })
  return openSQLiteStore(config.dbPath)
}

/**
 * Where the store lives, for messages and logs: the SQLite path, or the PostgreSQL URL with its
 * password replaced by `***`.
 */
export function describeStore(config: StoreConfig): string {
  return config.databaseURL ? redactDatabaseURL(config.databaseURL) : config.dbPath
}

/**
 * Whether a store is there for the operator commands to work on: the SQLite file exists. A
 * PostgreSQL database is taken as there (opening it creates the schema if it is new).
 */
export function storeExists(config: StoreConfig): boolean {
  return config.databaseURL !== null || existsSync(config.dbPath)
}
