import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { createMemoryStore, openSQLiteStore } from '../src/index.ts'
import { storeContract } from './store-contract.ts'

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

const pgURL = process.env.SPRITES_TEST_PG_URL
describe('postgres', () => {
  test('contract', {
    skip: pgURL
      ? 'SPRITES_TEST_PG_URL is set, but no PostgreSQL store is implemented yet'
      : 'set SPRITES_TEST_PG_URL to run the contract against PostgreSQL',
  }, () => {})
})
