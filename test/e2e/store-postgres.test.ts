// spritesd with its store in PostgreSQL (SPRITES_DATABASE_URL): a throwaway cluster on a unix
// socket, a sprite made and used, a restart on the same database, and the operator commands.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
// The store package's test cluster helper. `.js`, not `.ts`: tsc cannot rewrite a `.ts` import
// that reaches into another project (TS2878); tsx maps it to the source file.
import {
  type PgCluster,
  postgresBinDir,
  startPgCluster,
} from '../../packages/store/test/pg-cluster.js'
import { api, type Conn, createSprite, deleteAll, sh } from './api-helpers.ts'
import {
  E2E_DATA_DIR,
  type Spritesd,
  spritesdCommand,
  startSpritesd,
  uniqueName,
} from './harness.ts'

const isRoot = process.getuid?.() === 0
const skip = !isRoot
  ? 'needs root to run sprites'
  : postgresBinDir()
    ? false
    : 'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (scripts/setup.sh installs them)'

const spritesd = spritesdCommand

async function queryRows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

describe('spritesd with its store in PostgreSQL', { skip }, () => {
  // The first start on the empty database writes its own admin token over the instance's one
  // (<dataDir>/admin-token, which the SQLite runs of this instance read): it is put back after.
  const tokenFile = join(E2E_DATA_DIR, 'admin-token')
  let savedToken: string | null = null
  let cluster: PgCluster | undefined
  let url = ''
  let srv: Spritesd | undefined
  let conn: Conn | undefined
  const name = uniqueName('pgst')

  before(async () => {
    savedToken = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8') : null
    cluster = await startPgCluster()
    url = await cluster.createDatabase()
    srv = await startSpritesd({ SPRITES_DATABASE_URL: url })
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    await deleteAll(conn, [name])
    await srv?.stop()
    await cluster?.stop()
    if (savedToken !== null) writeFileSync(tokenFile, savedToken, { mode: 0o600 })
    else rmSync(tokenFile, { force: true })
  })

  test('a sprite is created and runs commands; its rows are in PostgreSQL', async () => {
    assert.match(srv!.log(), /"store":"postgres:\/\/\/sprites_/)
    await createSprite(conn!, name)
    assert.equal(
      await sh(conn!, name, 'echo kept > /home/sprite/f && cat /home/sprite/f'),
      'kept\n',
    )
    const rows = await queryRows(url, 'SELECT name, slot FROM sprites')
    assert.deepEqual(
      rows.map((r) => r.name),
      [name],
    )
    const orgs = await queryRows(url, 'SELECT slug FROM orgs')
    assert.deepEqual(orgs, [{ slug: 'personal' }])
  })

  test('after a restart on the same database the sprite and its token still work', async () => {
    const token = srv!.token
    await srv!.stop()
    srv = await startSpritesd({ SPRITES_DATABASE_URL: url })
    assert.equal(srv.token, token, 'no second bootstrap: the org and its token were found')
    conn = { baseURL: srv.baseURL, token }
    const info = await api(conn, 'GET', `/v1/sprites/${name}`)
    assert.equal(info.status, 200, info.text)
    assert.equal(await sh(conn, name, 'cat /home/sprite/f'), 'kept\n')
  })

  test('a second spritesd on the same database refuses to start; the first keeps working', () => {
    const dirs = mkdtempSync(join(tmpdir(), 'sprites-second-'))
    try {
      const second = spritesd(['serve'], {
        SPRITES_DATABASE_URL: url,
        SPRITES_DATA_DIR: join(dirs, 'data'),
        SPRITES_RUN_DIR: join(dirs, 'run'),
        SPRITES_LISTEN: '127.0.0.1:0',
      })
      assert.equal(second.code, 1, second.out)
      assert.match(second.err, /another spritesd is using the database postgres:\/\/\/sprites_/)
    } finally {
      rmSync(dirs, { recursive: true, force: true })
    }
    return sh(conn!, name, 'cat /home/sprite/f').then((out) => assert.equal(out, 'kept\n'))
  })

  test('spritesd token list and org list work on the PostgreSQL store', () => {
    const tokenID = srv!.token.split('/')[2] as string
    const tokens = spritesd(['token', 'list'], { SPRITES_DATABASE_URL: url })
    assert.equal(tokens.code, 0, tokens.err)
    assert.match(tokens.out, new RegExp(tokenID))
    assert.doesNotMatch(tokens.out, /\/[A-Za-z0-9_-]{43}/, 'token values are never listed')
    const orgs = spritesd(['org', 'list'], { SPRITES_DATABASE_URL: url })
    assert.equal(orgs.code, 0, orgs.err)
    assert.match(orgs.out, /^personal\s/m)
    const bad = spritesd(['token', 'list'], { SPRITES_DATABASE_URL: 'mysql://u:hunter2@h/d' })
    assert.notEqual(bad.code, 0)
    assert.match(bad.err, /postgres:\/\/ or postgresql:\/\//)
    assert.doesNotMatch(bad.err, /hunter2/)
  })
})
