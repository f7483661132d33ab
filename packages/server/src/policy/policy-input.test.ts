import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  MAX_MEMORY_LIMIT_MB,
  MIN_MEMORY_LIMIT_MB,
  parsePrivilegesPolicy,
  parseResourcesPolicy,
} from './policy-input.ts'

const invalid = (re: RegExp) => (err: { code?: string; message?: string }) =>
  err.code === 'invalid_argument' && re.test(err.message ?? '')

test('privileges: keeps the given fields, camelCase, and nothing else', () => {
  assert.deepEqual(parsePrivilegesPolicy({}), {})
  const full = { profile: 'minimal', devices: ['/dev/fuse', '/dev/kvm'], noNewPrivileges: true }
  assert.deepEqual(parsePrivilegesPolicy(full), full)
  assert.deepEqual(parsePrivilegesPolicy({ profile: 'privileged', noNewPrivileges: false }), {
    profile: 'privileged',
    noNewPrivileges: false,
  })
  assert.deepEqual(parsePrivilegesPolicy({ profile: '', devices: null }), {})
  const devices = ['/dev/x']
  const parsed = parsePrivilegesPolicy({ devices })
  devices.push('/dev/y')
  assert.deepEqual(parsed, { devices: ['/dev/x'] }, 'a copy')
})

test('privileges: refuses wrong types and unknown profiles; ignores unknown fields', () => {
  assert.throws(() => parsePrivilegesPolicy({ profile: 'root' }), invalid(/profile must be/))
  assert.throws(() => parsePrivilegesPolicy({ profile: 1 }), invalid(/profile/))
  assert.throws(() => parsePrivilegesPolicy({ devices: '/dev/fuse' }), invalid(/devices/))
  assert.throws(() => parsePrivilegesPolicy({ devices: [1] }), invalid(/devices/))
  assert.throws(() => parsePrivilegesPolicy({ devices: [''] }), invalid(/devices/))
  assert.throws(() => parsePrivilegesPolicy({ noNewPrivileges: 'yes' }), invalid(/noNewPriv/))
  assert.deepEqual(parsePrivilegesPolicy({ no_new_privileges: true, profile: 'minimal' }), {
    profile: 'minimal',
  })
  for (const body of [null, [], 'x', 3]) {
    assert.throws(() => parsePrivilegesPolicy(body), invalid(/JSON object/))
  }
})

test('resources: memory.limit_mb within range, autoscale defaults to false', () => {
  assert.deepEqual(parseResourcesPolicy({ memory: { limit_mb: 512, autoscale: true } }), {
    memory: { limit_mb: 512, autoscale: true },
  })
  assert.deepEqual(parseResourcesPolicy({ memory: { limit_mb: MIN_MEMORY_LIMIT_MB } }), {
    memory: { limit_mb: MIN_MEMORY_LIMIT_MB, autoscale: false },
  })
  assert.deepEqual(parseResourcesPolicy({ memory: { limitMB: 300, autoscale: false } }), {
    memory: { limit_mb: 300, autoscale: false },
  })
  assert.equal(parseResourcesPolicy({}), null, 'no memory: nothing to set')
  assert.equal(parseResourcesPolicy({ memory: null }), null)
})

test('resources: refuses out-of-range or non-integer limits and wrong types', () => {
  for (const limit_mb of [MIN_MEMORY_LIMIT_MB - 1, MAX_MEMORY_LIMIT_MB + 1, 1.5, '512', null]) {
    assert.throws(
      () => parseResourcesPolicy({ memory: { limit_mb } }),
      invalid(/limit_mb must be an integer from 64 to 1048576/),
      String(limit_mb),
    )
  }
  assert.throws(
    () => parseResourcesPolicy({ memory: { limit_mb: 512, autoscale: 'no' } }),
    invalid(/autoscale/),
  )
  assert.throws(() => parseResourcesPolicy({ memory: 512 }), invalid(/memory must be/))
  assert.equal(parseResourcesPolicy({ cpu: {} }), null, 'unknown fields are ignored (§1.1)')
  assert.deepEqual(parseResourcesPolicy({ memory: { limit_mb: 512, swap: 1 } }), {
    memory: { limit_mb: 512, autoscale: false },
  })
  assert.throws(() => parseResourcesPolicy([]), invalid(/JSON object/))
})
