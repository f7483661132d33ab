import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseDuration } from './duration.ts'
import { assertSpriteName, isValidSpriteName } from './names.ts'
import { parseSignal, signalExitCode } from './signal.ts'
import { parseBool } from './values.ts'

test('durations in Go syntax, with decimals, and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('1.5s'), 1500)
  assert.equal(parseDuration('2.0s'), 2000)
  assert.equal(parseDuration('1m30s'), 90_000)
  assert.equal(parseDuration('1h'), 3_600_000)
  assert.equal(parseDuration('10'), 10_000)
  assert.equal(parseDuration(0), 0)
  assert.equal(parseDuration('0s'), 0)
  for (const bad of ['', 'abc', '10x', '-1s', 's', '1s2']) {
    assert.throws(() => parseDuration(bad), { code: 'invalid_argument' }, bad)
  }
})

test('signals with or without SIG, any case, or numbers', () => {
  assert.deepEqual(parseSignal('TERM'), { name: 'SIGTERM', number: 15 })
  assert.deepEqual(parseSignal('sigint'), { name: 'SIGINT', number: 2 })
  assert.deepEqual(parseSignal('9'), { name: 'SIGKILL', number: 9 })
  assert.equal(parseSignal('NOPE'), null)
  assert.equal(parseSignal('999'), null)
  assert.equal(signalExitCode(15), 143)
})

test('sprite names follow the DNS-label rule', () => {
  for (const ok of ['a', 'my-sprite', 'x1', 'a'.repeat(57), '0abc'])
    assert.ok(isValidSpriteName(ok), ok)
  for (const bad of ['', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(58), 'é']) {
    assert.ok(!isValidSpriteName(bad), bad)
    assert.throws(() => assertSpriteName(bad), /lowercase letters, digits and hyphens/)
  }
})

test('booleans accept true/false/1/0 and fall back to the default', () => {
  assert.equal(parseBool('1', false), true)
  assert.equal(parseBool('FALSE', true), false)
  assert.equal(parseBool(undefined, true), true)
  assert.equal(parseBool('maybe', false), false)
})
