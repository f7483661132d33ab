import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { noopLogger } from '@sprites/protocol'
import { createMemoryStore } from '@sprites/store'
import { createPolicyFiles } from '../src/policy/policy-files.ts'

test('policy files: written at prepare, rewritten on change while present, removed on release', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'sprites-policy-files-'))
  t.after(() => rmSync(runDir, { recursive: true, force: true }))
  const store = createMemoryStore()
  const org = await store.createOrg('o')
  const sprite = await store.insertSprite({
    id: 'sprite-f',
    orgID: org.id,
    name: 'f',
    status: 'cold',
    opState: 'ready',
    config: { ramMB: 256, cpus: 1, region: 'local', storageGB: 1 },
    environment: {},
    urlSettings: { auth: 'sprite' },
    labels: [],
    runtime: 'default',
    version: 'v',
  })
  const files = createPolicyFiles({ runDir, store, log: noopLogger })
  const dir = join(runDir, 'policy', sprite.id)
  const read = () => JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'))

  await files.changed(sprite)
  assert.equal(existsSync(dir), false, 'no directory for a sprite that does not run')
  assert.equal(await files.prepare(sprite), dir)
  assert.deepEqual(read(), { rules: [] })
  assert.equal(statSync(dir).mode & 0o777, 0o755)
  assert.equal(statSync(join(dir, 'network.json')).mode & 0o777, 0o644)

  const rules = [{ domain: 'a.example', action: 'deny' as const }, { include: 'defaults' as const }]
  await store.updateSprite(sprite.id, { policies: { network: { rules } } })
  await files.changed(sprite)
  assert.deepEqual(read(), { rules }, 'what the store holds, whatever record the caller has')
  assert.deepEqual(readdirSync(dir), ['network.json'], 'no temp files left')

  await files.release(sprite.id)
  assert.equal(existsSync(dir), false)
  await files.changed(sprite)
  assert.equal(existsSync(dir), false, 'a change after release makes nothing')

  await files.prepare(sprite)
  await files.clear()
  assert.equal(existsSync(join(runDir, 'policy')), false, 'start-up removes leftovers')
})
