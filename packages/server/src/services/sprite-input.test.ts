import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseCreateInput, parseUpdateInput } from './sprite-input.ts'
import { applyLifecyclePatch, lifecycleTimings } from './sprite-lifecycle.ts'

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

test('create: lifecycle timings (X3), whole seconds within bounds', () => {
  const lc = (lifecycle: unknown) => parseCreateInput({ name: 'a', lifecycle }, defaults).lifecycle
  assert.deepEqual(lc({ warm_after_s: 1, cold_after_s: 600 }), { warmAfterS: 1, coldAfterS: 600 })
  assert.deepEqual(lc({ warmAfterS: 5 }), { warmAfterS: 5 })
  assert.deepEqual(lc({ warm_after_s: null }), {})
  assert.equal(lc(undefined), undefined)
  assert.equal(lc(null), undefined)
  // cold_after_s counts from the moment the sprite went warm: no ordering is required.
  assert.deepEqual(lc({ warm_after_s: 600, cold_after_s: 1 }), { warmAfterS: 600, coldAfterS: 1 })
  const bad = (lifecycle: unknown, re: RegExp) =>
    assert.throws(() => lc(lifecycle), { code: 'invalid_argument', message: re })
  bad({ warm_after_s: 0 }, /lifecycle\.warm_after_s must be an integer .* from 1 to 86400/)
  bad({ warm_after_s: 1.5 }, /lifecycle\.warm_after_s/)
  bad({ warm_after_s: '30' }, /lifecycle\.warm_after_s/)
  bad({ warm_after_s: 86_401 }, /lifecycle\.warm_after_s/)
  bad({ cold_after_s: 604_801 }, /lifecycle\.cold_after_s must be .* from 1 to 604800/)
  bad({ cold_after_s: -1 }, /lifecycle\.cold_after_s/)
  bad([30], /lifecycle must be an object/)
  bad(30, /lifecycle must be an object/)
})

test('update: lifecycle patch, null resets to the server setting', () => {
  assert.deepEqual(parseUpdateInput({ lifecycle: { warm_after_s: 10 } }), {
    lifecycle: { warmAfterS: 10 },
  })
  assert.deepEqual(parseUpdateInput({ lifecycle: { warm_after_s: null, cold_after_s: 60 } }), {
    lifecycle: { warmAfterS: null, coldAfterS: 60 },
  })
  assert.deepEqual(parseUpdateInput({ lifecycle: null }), {
    lifecycle: { warmAfterS: null, coldAfterS: null },
  })
  assert.throws(() => parseUpdateInput({ lifecycle: { cold_after_s: 0 } }), {
    message: /lifecycle\.cold_after_s/,
  })
  const stored = { warmAfterS: 5, coldAfterS: 60 }
  assert.deepEqual(applyLifecyclePatch(stored, { warmAfterS: null }), { coldAfterS: 60 })
  assert.deepEqual(applyLifecyclePatch(stored, { coldAfterS: 7 }), { warmAfterS: 5, coldAfterS: 7 })
  assert.deepEqual(applyLifecyclePatch(undefined, { warmAfterS: 3 }), { warmAfterS: 3 })
  assert.deepEqual(lifecycleTimings({ lifecycle: { warmAfterS: 2 } }), { warmAfterMs: 2000 })
  assert.deepEqual(lifecycleTimings({}), {})
})
