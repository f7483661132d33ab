import { Client, Pool, type PoolClient, types } from 'pg'

/** The narrow part of a pg `Pool` or `PoolClient` that the store's queries use. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>
}

/** A pool of connections plus the transaction helper the multi-statement operations run in. */
export interface PgDB extends Queryable {
  /** Runs `fn` between BEGIN and COMMIT on one connection; any throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Takes the session-level advisory lock `key` on a connection of its own, kept until `end()`
   * (or the process's end: PostgreSQL frees it with the session). False while another session
   * holds it. The connection is checked every {@link LOCK_CHECK_MS} (which also keeps it alive);
   * `onLost` hears once if it fails or drops, as the lock went with it.
   */
  holdLock(key: string, onLost: (err: Error) => void): Promise<boolean>
  end(): Promise<void>
}

export interface PgDBOptions {
  /** Most connections open at once. */
  maxConnections: number
  /** Gets errors of idle connections (the server went away); the next query reconnects. */
  onIdleError: (err: Error) => void
}

/** PostgreSQL type oid of `bigint` (int8): timestamps in ms, counts and sequence numbers. */
const INT8_OID = 20

/**
 * The pool's type parsers: `bigint` becomes a JS number (every bigint the store holds is below
 * 2^53: epoch milliseconds, counts, row sequence numbers); everything else as pg parses it.
 * Set per pool, so other pg users in the process keep their own parsing.
 */
const storeTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
}

/** Opens a pool on `url` (nothing connects until the first query). */
export function createPgDB(url: string, options: PgDBOptions): PgDB {
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections,
    connectionTimeoutMillis: 10_000,
    application_name: 'spritesd',
    types: storeTypes,
  })
  pool.on('error', options.onIdleError)
  const locks: HeldLock[] = []
  return {
    query: (sql, params) => pool.query(sql, params as unknown[]),
    transaction: (fn) => transaction(pool, fn),
    async holdLock(key, onLost) {
      const lock = await takeLock(url, key, onLost)
      if (lock) locks.push(lock)
      return lock !== null
    },
    end: async () => {
      await Promise.all(locks.splice(0).map((l) => l.end()))
      await pool.end()
    },
  }
}

/** How often a held lock's connection is checked. */
export const LOCK_CHECK_MS = 30_000

interface HeldLock {
  end(): Promise<void>
}

async function takeLock(
  url: string,
  key: string,
  onLost: (err: Error) => void,
): Promise<HeldLock | null> {
  const client = new Client({
    connectionString: url,
    application_name: 'spritesd-lock',
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: 10_000,
  })
  let ending = false
  let timer: NodeJS.Timeout | undefined
  let lost = false
  const lose = (err: Error) => {
    if (ending || lost) return
    lost = true
    clearInterval(timer)
    client.end().catch(() => undefined)
    onLost(err)
  }
  client.on('error', lose)
  client.on('end', () => lose(new Error('the connection holding the lock closed')))
  try {
    await client.connect()
    const r = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
      [key],
    )
    if (!r.rows[0]?.ok) {
      ending = true
      await client.end()
      return null
    }
  } catch (err) {
    ending = true
    await client.end().catch(() => undefined)
    throw err
  }
  timer = setInterval(() => {
    client.query('SELECT 1').catch((err: Error) => lose(err))
  }, LOCK_CHECK_MS)
  timer.unref()
  return {
    end: async () => {
      ending = true
      clearInterval(timer)
      await client.end().catch(() => undefined)
    },
  }
}

async function transaction<T>(pool: Pool, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const client: PoolClient = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await fn(client as Queryable)
    await client.query('COMMIT')
    return result
  } catch (err) {
    // A connection that cannot even roll back is dropped from the pool instead of reused.
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e
    })
    throw err
  } finally {
    client.release(broken)
  }
}

/** SQLSTATE of a pg error (`23505` unique violation, …), if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** True for a unique violation, of `constraint` when given. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (sqlState(err) !== '23505') return false
  return constraint === undefined || (err as { constraint?: unknown }).constraint === constraint
}

/** True for a foreign-key violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === '23503'
}
