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

/** Held locks, released in reverse order. */
export interface HeldLocks {
  release(): Promise<void>
}

/**
 * Locks the data and run directories (`spritesd-data.lock`, `spritesd-run.lock`) and, for an
 * SQLite store, its file (`<dbPath>.lock`), all through flock(2): what a server and the commands
 * that rebuild its files (`setup`, `image build`) must have alone.
 * @throws SpritesError conflict naming what another spritesd holds
 */
export async function lockDirectories(
  config: StoreConfig & Pick<ServerConfig, 'dataDir' | 'runDir'>,
): Promise<HeldLocks> {
  const wanted: [string, string][] = [
    [join(config.dataDir, 'spritesd-data.lock'), config.dataDir],
    [join(config.runDir, 'spritesd-run.lock'), config.runDir],
  ]
  if (!config.databaseURL) wanted.push([`${config.dbPath}.lock`, config.dbPath])
  const locks: ProcessLock[] = []
  const release = async () => {
    for (const l of locks.splice(0).reverse()) await l.release()
  }
  try {
    for (const [path, what] of wanted) locks.push(await acquireProcessLock(path, what))
    return { release }
  } catch (err) {
    await release()
    throw err
  }
}

/**
 * Claims what one spritesd must have alone: its directories and SQLite file
 * ({@link lockDirectories}), then a PostgreSQL store through a session advisory lock; losing
 * that lock later calls `onLost`. Whatever was taken is let go again when a later step fails.
 * @throws SpritesError conflict naming what another spritesd holds
 */
export async function claimInstance(
  config: StoreConfig & Pick<ServerConfig, 'dataDir' | 'runDir'>,
  log: PostgresStoreLogger | undefined,
  onLost: (err: Error) => void,
): Promise<ClaimedInstance> {
  const locks = await lockDirectories(config)
  let store: Store | undefined
  try {
    store = await openConfiguredStore(config, log)
    await store.claimServer?.(onLost)
    return { store, release: () => locks.release() }
  } catch (err) {
    await store?.close().catch(() => undefined)
    await locks.release()
    throw err
  }
}
