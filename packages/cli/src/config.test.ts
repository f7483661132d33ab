import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { loadConfig } from './config.ts'
import { configPath, readConfigFile, storeToken, writeConfigFile } from './config-file.ts'

function dirs(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'sprite-cli-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const home = join(root, 'home')
  const cwd = join(root, 'proj', 'sub')
  mkdirSync(home)
  mkdirSync(cwd, { recursive: true })
  const path = configPath(home)
  let file = storeToken(readConfigFile(path), 'http://a:1', 'acme', 'acme/aaaaa/t/s')
  file = storeToken(file, 'http://a:1', 'personal', 'personal/bbbbb/t/s')
  writeConfigFile(path, file)
  return { root, home, cwd }
}

test('defaults come from the current selection', (t) => {
  const { home, cwd } = dirs(t)
  const c = loadConfig({ env: {}, cwd, home, flags: {} })
  assert.equal(c.apiURL, 'http://a:1')
  assert.equal(c.org, 'personal')
  assert.equal(c.token, 'personal/bbbbb/t/s')
  assert.equal(c.sprite, undefined)
})

test('.sprite is found walking up; -s and -o beat it', (t) => {
  const { root, home, cwd } = dirs(t)
  writeFileSync(join(root, 'proj', '.sprite'), '{"organization":"acme","sprite":"box"}')
  const c = loadConfig({ env: {}, cwd, home, flags: {} })
  assert.deepEqual([c.org, c.token, c.sprite], ['acme', 'acme/aaaaa/t/s', 'box'])
  const f = loadConfig({
    env: { SPRITE_ORG: 'acme' },
    cwd,
    home,
    flags: { org: 'personal', sprite: 'other' },
  })
  assert.deepEqual([f.org, f.sprite], ['personal', 'other'])
})

test('SPRITE_ORG beats .sprite; SPRITE_TOKEN and SPRITES_API_URL beat the file', (t) => {
  const { root, home, cwd } = dirs(t)
  writeFileSync(join(root, 'proj', '.sprite'), '{"organization":"personal","sprite":"box"}')
  const c = loadConfig({ env: { SPRITE_ORG: 'acme' }, cwd, home, flags: {} })
  assert.equal(c.token, 'acme/aaaaa/t/s')
  const e = loadConfig({
    env: { SPRITE_TOKEN: 'x/y/z/w', SPRITES_API_URL: 'http://b:2/' },
    cwd,
    home,
    flags: {},
  })
  assert.deepEqual([e.apiURL, e.token, e.tokenFromEnv], ['http://b:2', 'x/y/z/w', true])
})

test('no config at all: default URL and no token', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sprite-cli-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const c = loadConfig({ env: {}, cwd: root, home: root, flags: {} })
  assert.equal(c.apiURL, 'https://api.sprites.dev')
  assert.equal(c.token, undefined)
})
