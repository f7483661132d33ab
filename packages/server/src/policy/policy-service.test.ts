import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noopLogger } from '@sprites/protocol'
import { createMemoryStore, type SpriteRecord, type Store } from '@sprites/store'
import { createPolicyService } from './policy-service.ts'
import { memoryLimitMB, networkPolicyOf, resourcesPolicyOf } from './sprite-policies.ts'

async function setup(): Promise<{ store: Store; sprite: SpriteRecord }> {
  const store = createMemoryStore()
  const org = await store.createOrg('o')
  const sprite = await store.insertSprite({
    id: 'sprite-1',
    orgID: org.id,
    name: 'p',
    status: 'cold',
    opState: 'ready',
    config: { ramMB: 2048, cpus: 2, region: 'local', storageGB: 10 },
    environment: {},
    urlSettings: { auth: 'sprite' },
    labels: [],
    runtime: 'default',
    version: 'v',
  })
  return { store, sprite }
}

test('a network change is stored, then copied to the file, then enforced', async () => {
  const { store, sprite } = await setup()
  const calls: string[] = []
  const service = createPolicyService({
    store,
    log: noopLogger,
    files: {
      changed: async (s) => {
        const stored = await store.getSpriteByID(s.id)
        calls.push(`file ${JSON.stringify(networkPolicyOf(stored!))}`)
      },
    },
    egress: {
      apply: async (s) => {
        const stored = await store.getSpriteByID(s.id)
        calls.push(`egress ${JSON.stringify(networkPolicyOf(stored!))}`)
      },
    },
  })
  const rules = [{ domain: 'Example.com', action: 'allow' }, { include: 'defaults' }]
  await service.setNetwork(sprite, { rules, ignored: 1 })
  const want = JSON.stringify({ rules })
  assert.deepEqual(calls, [`file ${want}`, `egress ${want}`])
  await assert.rejects(service.setNetwork(sprite, { rules: [{ domain: 'x' }] }), {
    code: 'invalid_argument',
    message: /^invalid policy: rule 0/,
  })
  assert.equal(calls.length, 2, 'nothing applied for an invalid policy')
  assert.deepEqual(networkPolicyOf((await store.getSpriteByID(sprite.id))!), { rules })
})

test('an enforcer failure fails the call; the policy stays stored for the next boot', async () => {
  const { store, sprite } = await setup()
  const service = createPolicyService({
    store,
    log: noopLogger,
    egress: { apply: async () => Promise.reject(new Error('nft failed')) },
  })
  await assert.rejects(service.setNetwork(sprite, { rules: [] }), /nft failed/)
  assert.deepEqual((await store.getSpriteByID(sprite.id))?.policies, { network: { rules: [] } })
})

test('privileges and resources replace and clear one kind, keeping the others', async () => {
  const { store, sprite } = await setup()
  const service = createPolicyService({ store, log: noopLogger })
  await service.setNetwork(sprite, { rules: [{ domain: '*', action: 'deny' }] })
  await service.setPrivileges(sprite, { profile: 'standard' })
  await service.setResources(sprite, { memory: { limit_mb: 256 } })
  let s = (await store.getSpriteByID(sprite.id))!
  assert.equal(memoryLimitMB(s), 256)
  assert.deepEqual(s.policies?.privileges, { profile: 'standard' })
  await service.clearResources(sprite)
  s = (await store.getSpriteByID(sprite.id))!
  assert.deepEqual(resourcesPolicyOf(s), {})
  assert.equal(memoryLimitMB(s), 2048, 'back to config.ram_mb')
  await service.setResources(sprite, { memory: { limit_mb: 128 } })
  await service.setResources(sprite, {})
  assert.equal(memoryLimitMB((await store.getSpriteByID(sprite.id))!), 2048, '{} clears it too')
  await service.clearPrivileges(sprite)
  s = (await store.getSpriteByID(sprite.id))!
  assert.deepEqual(s.policies, { network: { rules: [{ domain: '*', action: 'deny' }] } })
  await assert.rejects(service.setPrivileges(sprite, null), { code: 'invalid_argument' })
  await assert.rejects(service.setResources(sprite, null), { code: 'invalid_argument' })
})
