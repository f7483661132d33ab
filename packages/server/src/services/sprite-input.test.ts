import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseCreateInput, parseUpdateInput } from './sprite-input.ts'

const defaults = { ramMB: 2048, cpus: 2, region: 'local', storageGB: 10 }

test('create: defaults and ignored unknown fields', () => {
  assert.deepEqual(parseCreateInput({ name: 'a', extra: 1, wait_for_capacity: true }, defaults), {
    name: 'a',
    config: defaults,
    environment: {},
    urlSettings: { auth: 'sprite' },
    labels: [],
    runtime: 'default',
  })
})

test('create: camelCase aliases', () => {
  const got = parseCreateInput(
    {
      name: 'a',
      config: { ramMB: 512, storageGB: 3 },
      url_settings: { auth: 'public', privateAccess: 'admins' },
    },
    defaults,
  )
  assert.deepEqual(got.config, { ramMB: 512, cpus: 2, region: 'local', storageGB: 3 })
  assert.deepEqual(got.urlSettings, { auth: 'public', privateAccess: 'admins' })
})

test('create: rejects bad input with the rule', () => {
  const bad = (body: unknown, re: RegExp) =>
    assert.throws(() => parseCreateInput(body, defaults), { code: 'invalid_argument', message: re })
  bad({ name: 'Bad_Name' }, /lowercase letters, digits and hyphens/)
  bad({ name: 'a', environment: { A: 1 } }, /environment\.A must be a string/)
  bad({ name: 'a', environment: ['x'] }, /environment must be an object/)
  bad({ name: 'a', labels: [1] }, /labels must be an array of strings/)
  bad({ name: 'a', config: { cpus: 0 } }, /config\.cpus/)
  bad({ name: 'a', url_settings: { auth: 'open' } }, /url_settings\.auth/)
  bad([], /JSON object/)
})

test('update: needs a field; clear_labels empties', () => {
  assert.throws(() => parseUpdateInput({}), {
    code: 'invalid_argument',
    message: /nothing to update/,
  })
  assert.deepEqual(parseUpdateInput({ labels: ['a'], clear_labels: true }), { labels: [] })
  assert.deepEqual(parseUpdateInput({ url_settings: { auth: 'public' } }), {
    urlSettings: { auth: 'public' },
  })
  assert.throws(() => parseUpdateInput({ url_settings: { auth: 'sprite', private_access: 'x' } }), {
    message: /private_access/,
  })
})
