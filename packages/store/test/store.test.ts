import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Database from 'better-sqlite3'
import { createMemoryStore, MIGRATIONS, openSQLiteStore } from '../src/index.ts'
import { newSprite, storeContract } from './store-contract.ts'

const dir = mkdtempSync(join(tmpdir(), 'sprites-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
let lastPath = ''
const freshPath = () => {
  lastPath = join(dir, `store-${++n}.db`)
  return lastPath
}

storeContract('memory', { open: async () => createMemoryStore() })
storeContract('sqlite', {
  open: async () => openSQLiteStore(freshPath()),
  reopen: async () => openSQLiteStore(lastPath),
})

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
