import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_ALLOWED_DOMAINS, type DomainRule, noopLogger } from '@sprites/protocol'
import { EgressFailedClosedError } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import { apiHostNames, NetworkEgressEnforcer } from './egress-enforcer.ts'

function setUp(fail?: (slot: number) => Error | undefined) {
  const stored = new Map<string, SpriteRecord>()
  const pushes: { slot: number; rules: readonly DomainRule[] }[] = []
  const enforcer = new NetworkEgressEnforcer({
    network: {
      setEgress: async (slot, rules) => {
        await new Promise((r) => setTimeout(r, 5))
        const err = fail?.(slot)
        if (err) throw err
        pushes.push({ slot, rules })
      },
    },
    store: { getSpriteByID: async (id) => stored.get(id) ?? null },
    log: noopLogger,
    extraDefaults: ['api.sprites.example'],
  })
  const sprite = (id: string, slot: number, rules?: SpriteRecord['policies']) => {
    const s = { id, slot, policies: rules } as SpriteRecord
    stored.set(id, s)
    return s
  }
  return { enforcer, pushes, sprite, stored }
}

test('apply does nothing for a sprite that is not running; boot applies what is stored', async () => {
  const t = setUp()
  const a = t.sprite('a', 3, { network: { rules: [{ include: 'defaults' }] } })
  await t.enforcer.apply(a)
  assert.equal(t.pushes.length, 0)
  await t.enforcer.boot({ ...a, policies: undefined })
  assert.equal(t.pushes.length, 1)
  const rules = t.pushes[0]?.rules ?? []
  assert.equal(rules.length, DEFAULT_ALLOWED_DOMAINS.length + 1)
  assert.deepEqual(rules.at(-1), { domain: 'api.sprites.example', action: 'allow' })
})

test('no policy or empty rules push no rules (unrestricted)', async () => {
  const t = setUp()
  await t.enforcer.boot(t.sprite('a', 1))
  await t.enforcer.boot(t.sprite('b', 2, { network: { rules: [] } }))
  assert.deepEqual(t.pushes, [
    { slot: 1, rules: [] },
    { slot: 2, rules: [] },
  ])
})

test('changes are applied in order, each with the policy as stored when its turn comes', async () => {
  const t = setUp()
  const a = t.sprite('a', 1)
  await t.enforcer.boot(a)
  const allow = (domain: string) => ({ domain, action: 'allow' as const })
  t.sprite('a', 1, { network: { rules: [allow('one.test')] } })
  const first = t.enforcer.apply(a)
  t.sprite('a', 1, { network: { rules: [allow('two.test')] } })
  const second = t.enforcer.apply(a)
  await Promise.all([first, second])
  assert.deepEqual(
    t.pushes.slice(1).map((p) => p.rules),
    [[allow('two.test')], [allow('two.test')]],
  )
  t.enforcer.forget('a')
  await t.enforcer.apply(a)
  assert.equal(t.pushes.length, 3)
})

test('a failed-closed policy lets the boot go on; other failures fail it; apply reports both', async () => {
  let failure: Error | undefined = new EgressFailedClosedError(1, new Error('resolver down'))
  const t = setUp(() => failure)
  const a = t.sprite('a', 1, { network: { rules: [{ domain: 'x.test', action: 'allow' }] } })
  await t.enforcer.boot(a)
  await assert.rejects(t.enforcer.apply(a), EgressFailedClosedError)
  failure = new Error('nft and ip both broken')
  await assert.rejects(t.enforcer.apply(a), /both broken/)
  await assert.rejects(t.enforcer.boot(a), /both broken/)
  failure = undefined
  await t.enforcer.apply(a)
  assert.equal(t.pushes.length, 0, 'a sprite whose boot failed is not live')
})

test('the API host joins defaults only when it is a name', () => {
  assert.deepEqual(apiHostNames('https://API.Sprites.example:8443/base'), ['api.sprites.example'])
  assert.deepEqual(apiHostNames('http://127.0.0.1:7470'), [])
  assert.deepEqual(apiHostNames('http://[::1]:7470'), [])
})
