import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { openSQLiteStore } from '@sprites/store'
import { bootstrap, loadConfig, noopLogger } from '../src/index.ts'

function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-boot-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfig({ HOME: join(dir, 'home') }, [
    '--data-dir',
    join(dir, 'data'),
    '--listen',
    '127.0.0.1:7999',
  ])
  return { dir, config }
}

test('first start creates the org, the token file and the CLI config; later starts do nothing', async (t) => {
  const { config } = setup(t)
  mkdirSync(config.dataDir, { recursive: true })
  const store = openSQLiteStore(config.dbPath)
  t.after(() => store.close())
  const first = await bootstrap({ store, config, log: noopLogger })
  assert.equal(first.org.slug, 'personal')
  assert.ok(first.token)
  assert.equal(readFileSync(first.tokenPath, 'utf8').trim(), first.token)
  assert.equal(statSync(first.tokenPath).mode & 0o777, 0o600)
  assert.equal((await store.resolveToken(first.token))?.org.id, first.org.id)
  const cli = JSON.parse(readFileSync(config.cliConfigPath, 'utf8'))
  assert.deepEqual(cli, {
    version: '1',
    current_selection: { url: 'http://127.0.0.1:7999', org: 'personal' },
    urls: {
      'http://127.0.0.1:7999': {
        url: 'http://127.0.0.1:7999',
        orgs: {
          personal: { sprites: {}, name: 'personal', use_keyring: false, token: first.token },
        },
      },
    },
  })
  assert.equal(statSync(config.cliConfigPath).mode & 0o777, 0o600)
  const again = await bootstrap({ store, config, log: noopLogger })
  assert.equal(again.token, null)
  assert.equal(again.org.id, first.org.id)
  assert.equal((await store.listOrgs()).length, 1)
})

test('merges into an existing CLI config, keeping other servers', async (t) => {
  const { config } = setup(t)
  mkdirSync(join(config.cliConfigPath, '..'), { recursive: true })
  const hosted = {
    url: 'https://api.sprites.dev',
    orgs: { me: { name: 'me', keyring_key: 'sprites-cli:1', use_keyring: true, sprites: {} } },
  }
  writeFileSync(
    config.cliConfigPath,
    JSON.stringify({
      version: '1',
      current_selection: { url: hosted.url, org: 'me' },
      urls: { [hosted.url]: hosted },
    }),
  )
  const store = openSQLiteStore(':memory:')
  t.after(() => store.close())
  const { token } = await bootstrap({
    store,
    config,
    log: noopLogger,
    apiURL: 'http://10.0.0.1:7470',
  })
  const cli = JSON.parse(readFileSync(config.cliConfigPath, 'utf8'))
  assert.deepEqual(cli.urls[hosted.url], hosted)
  assert.deepEqual(cli.current_selection, { url: 'http://10.0.0.1:7470', org: 'personal' })
  assert.equal(cli.urls['http://10.0.0.1:7470'].orgs.personal.token, token)
})
