import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  openPostgresStore,
  openSQLiteStore,
  type PostgresStoreLogger,
  redactDatabaseURL,
  type Store,
} from '@sprites/store'
import type { ServerConfig } from './config.ts'
import { acquireProcessLock, type ProcessLock } from './host/process-lock.ts'

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

/** What a serving spritesd holds: its store, and the locks on its directories and store. */
export interface ClaimedInstance {
  store: Store
  /** Closes nothing but the locks (the store closes with the server). */
  release(): Promise<void>
}

/**
 * Claims what one spritesd must have alone: its data and run directories (a lock socket in
 * each), then the store — an SQLite file through a lock socket beside it, a PostgreSQL database
 * through a session advisory lock. Whatever was taken is let go again when a later step fails.
 * @throws SpritesError conflict naming what another spritesd holds
 */
export async function claimInstance(
  config: StoreConfig & Pick<ServerConfig, 'dataDir' | 'runDir'>,
  log?: PostgresStoreLogger,
): Promise<ClaimedInstance> {
  const locks: ProcessLock[] = []
  const release = async () => {
    for (const l of locks.splice(0).reverse()) await l.release()
  }
  let store: Store | undefined
  try {
    locks.push(await acquireProcessLock(join(config.dataDir, 'spritesd.lock'), config.dataDir))
    locks.push(await acquireProcessLock(join(config.runDir, 'spritesd.lock'), config.runDir))
    if (!config.databaseURL) {
      locks.push(await acquireProcessLock(`${config.dbPath}.lock`, config.dbPath))
    }
    store = await openConfiguredStore(config, log)
    await store.claimServer?.()
    return { store, release }
  } catch (err) {
    await store?.close().catch(() => undefined)
    await release()
    throw err
  }
}
