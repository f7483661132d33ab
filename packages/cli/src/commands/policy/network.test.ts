import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatRule, rulesFromFlags } from './network.ts'

test('set flags become rules: defaults, then allows, then denies', () => {
  assert.deepEqual(
    rulesFromFlags({ allow: ['a.example', 'b.example'], deny: ['*'], defaults: true }),
    [
      { include: 'defaults' },
      { domain: 'a.example', action: 'allow' },
      { domain: 'b.example', action: 'allow' },
      { domain: '*', action: 'deny' },
    ],
  )
  assert.deepEqual(rulesFromFlags({ clear: true }), [])
})

test('set needs a flag, and --clear goes alone', () => {
  const usage = (err: { details?: { usage?: boolean } }) => err.details?.usage === true
  assert.throws(() => rulesFromFlags({}), usage)
  assert.throws(() => rulesFromFlags({ clear: true, allow: ['a.b'] }), usage)
})

test('rules print one per line', () => {
  assert.equal(formatRule({ include: 'defaults' }), 'include defaults')
  assert.equal(formatRule({ domain: 'a.b', action: 'allow' }), 'allow  a.b')
  assert.equal(formatRule({ domain: '*.c.d', action: 'deny' }), 'deny   *.c.d')
})
