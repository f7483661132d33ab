import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../src/config.ts'

const HOME = { HOME: '/home/tester' }

test('flags beat env, env beats the config file, the file beats defaults', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'server.json')
  writeFileSync(
    file,
    JSON.stringify({
      listen: { host: '0.0.0.0', port: 9000 },
      region: 'file',
      dataDir: '/srv/file',
      warmLimit: 7,
    }),
  )
  const env = { ...HOME, SPRITES_CONFIG: file, SPRITES_REGION: 'env', SPRITES_DATA_DIR: '/srv/env' }
  const c = loadConfig(env, ['--data-dir', '/srv/flag'])
  assert.equal(c.dataDir, '/srv/flag')
  assert.equal(c.dbPath, '/srv/flag/sprites.db')
  assert.equal(c.region, 'env')
  assert.equal(c.warmLimit, 7)
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9000 })
  assert.equal(c.publicURL, 'http://127.0.0.1:9000')
  assert.equal(c.configFile, file)
})
