import assert from 'node:assert/strict'
import { test } from 'node:test'
import { allowBatch, egressNames, enforceBatch, MAX_ALLOW_S, openBatch } from './egress-plan.ts'

const t = { table: 'sprites', slot: 3, address: '10.201.0.14' }

/** The commands of a batch (`; ` also separates the fields of a set declaration). */
const commands = (batch: string) => batch.split(/; (?=add |flush |delete )/)

test('enforcing puts the sprite into the egress map with its own set and chain', () => {
  assert.deepEqual(egressNames(3), { set: 'allow_3', chain: 'egress_3' })
  const cmds = commands(
    enforceBatch(t, 7, { flush: true, keep: [{ address: '198.18.0.2', timeoutS: 30 }] }),
  )
  assert.deepEqual(cmds, [
    'add set inet sprites allow_3 { type ipv4_addr; flags timeout; }',
    'flush set inet sprites allow_3',
    'add element inet sprites allow_3 { 198.18.0.2 timeout 30s }',
    'add chain inet sprites egress_3',
    'flush chain inet sprites egress_3',
    'add rule inet sprites egress_3 ct state established,related ct mark 7 accept',
    'add rule inet sprites egress_3 ip daddr @allow_3 ct mark set 7 accept',
    'add rule inet sprites egress_3 meta l4proto tcp reject with tcp reset',
    'add rule inet sprites egress_3 reject with icmpx type admin-prohibited',
    'add element inet sprites egress { 10.201.0.14 : jump egress_3 }',
    'delete element inet sprites egress { 10.201.0.14 }',
    'add element inet sprites egress { 10.201.0.14 : jump egress_3 }',
  ])
})

test('a restore keeps the set as it is; an empty keep list only flushes', () => {
  const restore = enforceBatch(t, 8, { flush: false })
  assert.doesNotMatch(restore, /flush set|add element inet sprites allow_3/)
  assert.match(restore, /ct mark 8 accept/)
  const flushOnly = enforceBatch(t, 9, { flush: true, keep: [] })
  assert.match(flushOnly, /flush set inet sprites allow_3; add chain/)
})

test('generations are 32-bit marks above 0', () => {
  assert.throws(() => enforceBatch(t, 0, { flush: true }), RangeError)
  assert.throws(() => enforceBatch(t, 2 ** 32, { flush: true }), RangeError)
  assert.doesNotThrow(() => enforceBatch(t, 2 ** 32 - 1, { flush: true }))
})

test('lifting the policy removes element, chain and set, whether or not they exist', () => {
  assert.deepEqual(commands(openBatch(t)), [
    'add chain inet sprites egress_3',
    'add element inet sprites egress { 10.201.0.14 : jump egress_3 }',
    'delete element inet sprites egress { 10.201.0.14 }',
    'flush chain inet sprites egress_3',
    'delete chain inet sprites egress_3',
    'add set inet sprites allow_3 { type ipv4_addr; flags timeout; }',
    'delete set inet sprites allow_3',
  ])
})

test('answers replace their elements with renewed, clamped timeouts, one per address', () => {
  const batch = allowBatch(t, [
    { address: '198.18.0.2', timeoutS: 5 },
    { address: '198.18.0.2', timeoutS: 60 },
    { address: '198.18.0.3', timeoutS: 0.2 },
    { address: '198.18.0.4', timeoutS: 10 ** 9 },
  ])
  assert.deepEqual(commands(batch), [
    'add element inet sprites allow_3 { 198.18.0.2 timeout 60s }',
    'delete element inet sprites allow_3 { 198.18.0.2 }',
    'add element inet sprites allow_3 { 198.18.0.2 timeout 60s }',
    'add element inet sprites allow_3 { 198.18.0.3 timeout 1s }',
    'delete element inet sprites allow_3 { 198.18.0.3 }',
    'add element inet sprites allow_3 { 198.18.0.3 timeout 1s }',
    `add element inet sprites allow_3 { 198.18.0.4 timeout ${MAX_ALLOW_S}s }`,
    'delete element inet sprites allow_3 { 198.18.0.4 }',
    `add element inet sprites allow_3 { 198.18.0.4 timeout ${MAX_ALLOW_S}s }`,
  ])
  assert.throws(() => allowBatch(t, [{ address: '1.2.3.4 } ; flush ruleset', timeoutS: 5 }]))
})
