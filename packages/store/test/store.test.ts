import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import {
  createMemoryStore,
  MIGRATIONS,
  openPostgresStore,
  openSQLiteStore,
  type Store,
} from '../src/index.ts'
import { type PgCluster, postgresBinDir, startPgCluster } from './pg-cluster.ts'
import { storeConcurrency } from './store-concurrency.ts'
import { newSprite, type StoreTarget, storeContract } from './store-contract.ts'

const dir = mkdtempSync(join(tmpdir(), 'sprites-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
let lastPath = ''
const freshPath = () => {
  lastPath = join(dir, `store-${++n}.db`)
  return lastPath
}

/** The shared contract and the concurrency tests, on one implementation. */
function storeTarget(name: string, target: StoreTarget): void {
  storeContract(name, target)
  storeConcurrency(name, target)
}

storeTarget('memory', { open: async () => createMemoryStore() })
storeTarget('sqlite', {
  open: async () => openSQLiteStore(freshPath()),
  reopen: async () => openSQLiteStore(lastPath),
})

if (postgresBinDir()) {
  postgresTargets()
} else {
  test(
    'postgres: store contract',
    {
      skip: 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin or on PATH (scripts/setup.sh installs postgresql)',
    },
    () => undefined,
  )
}

/** The contract on a throwaway cluster (one database per test), then what only PostgreSQL has. */
function postgresTargets(): void {
  let started: Promise<PgCluster> | undefined
  const cluster = () => {
    started ??= startPgCluster()
    return started
  }
  after(async () => {
    await (await started?.catch(() => undefined))?.stop()
  })
  let lastURL = ''
  storeTarget('postgres', {
    open: async () => {
      lastURL = await (await cluster()).createDatabase()
      return openPostgresStore(lastURL)
    },
    reopen: async () => openPostgresStore(lastURL),
  })
  describe('postgres: several stores on one database', () => postgresOnlyTests(cluster))
}

async function closeAll(stores: Store[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()))
}

function postgresOnlyTests(cluster: () => Promise<PgCluster>): void {
  test('two stores (as two processes) migrate at once and allocate without collisions', async () => {
    const url = await (await cluster()).createDatabase()
    const stores = await Promise.all([openPostgresStore(url), openPostgresStore(url)])
    try {
      const [a, b] = stores as [Store, Store]
      const org = await a.createOrg('shared')
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).insertSprite(newSprite(org.id, `n${i}`)),
        ),
      )
      assert.deepEqual(
        made.map((m) => m.slot).sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      )
      const sp = made[0]!
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).allocateCheckpointID(sp.id, 'v')),
      )
      assert.equal(new Set(ids).size, 20)
      assert.equal((await b.getSprite(org.id, 'n3'))?.slot, made[3]?.slot)
    } finally {
      await closeAll(stores)
    }
  })

  test('one server claims a database; another is refused until the first closes', async () => {
    const url = await (await cluster()).createDatabase()
    const first = await openPostgresStore(url)
    const second = await openPostgresStore(url)
    const lost: Error[] = []
    try {
      await first.claimServer?.((err) => lost.push(err))
      await assert.rejects(second.claimServer?.(() => undefined) ?? Promise.resolve(), {
        code: 'conflict',
        message: /another spritesd is using the database postgres/,
      })
      // Unclaimed users (the operator commands) keep working beside the claim.
      assert.ok(await second.createOrg('beside'))
      await first.close()
      await second.claimServer?.(() => undefined)
      assert.deepEqual(lost, [], 'closing is not losing')
    } finally {
      await closeAll([first, second])
    }
  })

  test('a claim whose connection is cut is reported lost, and another server may claim', async () => {
    const url = await (await cluster()).createDatabase()
    const first = await openPostgresStore(url)
    const second = await openPostgresStore(url)
    try {
      let onLost: (err: Error) => void = () => undefined
      const lost = new Promise<Error>((resolve) => {
        onLost = resolve
      })
      await first.claimServer?.((err) => onLost(err))
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'spritesd-lock'",
        )
      } finally {
        await client.end()
      }
      assert.match((await lost).message, /terminat|closed|Connection/i)
      await second.claimServer?.(() => undefined)
    } finally {
      await closeAll([first, second])
    }
  })

  test('migrations are recorded once; reopening applies none', async () => {
    const url = await (await cluster()).createDatabase()
    await (await openPostgresStore(url)).close()
    await (await openPostgresStore(url)).close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query('SELECT version FROM schema_migrations')
      assert.deepEqual(rows, [{ version: 1 }])
    } finally {
      await client.end()
    }
  })

  test('an error opening the store never shows the password', async () => {
    const c = await cluster()
    const url = `postgres://nosuchrole:hunter2@/postgres?host=${c.socketDir}&port=${c.port}`
    await assert.rejects(openPostgresStore(url), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'internal')
      assert.match(err.message, /nosuchrole:\*\*\*@/)
      assert.doesNotMatch(err.message, /hunter2/)
      return true
    })
    await assert.rejects(openPostgresStore('mysql://x@y/z'), { code: 'invalid_argument' })
  })
}

/** A database as an older spritesd left it: migrations up to `version`, with org `abcde`. */
function databaseAt(path: string, version: number): Database.Database {
  const db = new Database(path)
  db.exec(`CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    db.exec(m.sql)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0)
  }
  db.prepare("INSERT INTO orgs VALUES ('abcde', 'old', 0)").run()
  return db
}

test('sqlite: migration 3 keeps sprites made before it, without lifecycle timings', async () => {
  const path = freshPath()
  const db = databaseAt(path, 2)
  db.prepare(
    `INSERT INTO sprites VALUES ('sprite-old', 'abcde', 'old', 'cold', 'ready',
      '{"ramMB":1,"cpus":1,"region":"r","storageGB":1}', '{}', '{"auth":"sprite"}', '[]',
      'default', 1, 1065536, 'v1', 0, 0, NULL, NULL, NULL, NULL)`,
  ).run()
  db.close()
  const store = openSQLiteStore(path)
  try {
    const old = await store.getSpriteByID('sprite-old')
    assert.equal(old?.name, 'old')
    assert.equal(old?.lifecycle, undefined)
    const made = await store.insertSprite(
      newSprite('abcde', 'new', { lifecycle: { warmAfterS: 2 } }),
    )
    assert.deepEqual((await store.getSpriteByID(made.id))?.lifecycle, { warmAfterS: 2 })
  } finally {
    await store.close()
  }
})

test('sqlite: migration 4 keeps sprites made before it, without policies', async () => {
  const path = freshPath()
  const db = databaseAt(path, 3)
  db.prepare(
    `INSERT INTO sprites VALUES ('sprite-old', 'abcde', 'old', 'cold', 'ready',
      '{"ramMB":1,"cpus":1,"region":"r","storageGB":1}', '{}', '{"auth":"sprite"}', '[]',
      'default', 1, 1065536, 'v1', 0, 0, NULL, NULL, NULL, NULL, '{"warmAfterS":3}')`,
  ).run()
  db.close()
  const store = openSQLiteStore(path)
  try {
    const old = await store.getSpriteByID('sprite-old')
    assert.deepEqual(old?.lifecycle, { warmAfterS: 3 })
    assert.equal(old && 'policies' in old, false)
    const resources = { memory: { limit_mb: 128, autoscale: false } }
    await store.updateSprite('sprite-old', { policies: { resources } })
    assert.deepEqual((await store.getSpriteByID('sprite-old'))?.policies, { resources })
  } finally {
    await store.close()
  }
})
