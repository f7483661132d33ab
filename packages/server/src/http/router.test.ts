import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Router } from './router.ts'

function table() {
  const r = new Router<string>()
  r.add('GET', '/v1/sprites', 'list')
  r.add('POST', '/v1/sprites', 'create')
  r.add('GET', '/v1/sprites/:name', 'get')
  r.add('DELETE', '/v1/sprites/:name', 'delete')
  r.add('GET', '/v1/sprites/:name/exec/:id', 'attach')
  r.add('GET', '/v1/sprites/:name/fs/*', 'fs')
  r.add('GET', '/v1/sprites/special', 'special')
  return r
}

test('matches method and pattern with params', () => {
  assert.deepEqual(table().match('GET', '/v1/sprites/abc/exec/12'), {
    kind: 'found',
    value: 'attach',
    params: { name: 'abc', id: '12' },
  })
  assert.equal((table().match('POST', '/v1/sprites') as { value: string }).value, 'create')
})

test('percent-decodes segments after splitting', () => {
  const m = table().match('GET', '/v1/sprites/a%2Db%2Fc')
  assert.deepEqual(m, { kind: 'found', value: 'get', params: { name: 'a-b/c' } })
})

test('tolerates one trailing slash', () => {
  assert.equal((table().match('GET', '/v1/sprites/') as { value: string }).value, 'list')
  assert.equal((table().match('GET', '/v1/sprites/x/') as { value: string }).value, 'get')
})

test('prefers static segments over params', () => {
  assert.equal((table().match('GET', '/v1/sprites/special') as { value: string }).value, 'special')
})

test('captures the rest with *', () => {
  const m = table().match('GET', '/v1/sprites/a/fs/read/x%20y')
  assert.deepEqual(m, { kind: 'found', value: 'fs', params: { name: 'a', '*': 'read/x y' } })
})

test('reports 405 with the allowed methods, and 404', () => {
  assert.deepEqual(table().match('PATCH', '/v1/sprites/x'), {
    kind: 'method_not_allowed',
    allowed: ['DELETE', 'GET'],
  })
  assert.deepEqual(table().match('GET', '/v1/nothing'), { kind: 'not_found' })
  assert.deepEqual(table().match('GET', '/v1/sprites/x/y'), { kind: 'not_found' })
  assert.deepEqual(table().match('GET', '/v1/sprites//exec/1'), { kind: 'not_found' })
})

test('HEAD falls back to GET', () => {
  assert.equal((table().match('HEAD', '/v1/sprites/x') as { value: string }).value, 'get')
})

test('rejects malformed percent-encoding as invalid_argument', () => {
  assert.throws(() => table().match('GET', '/v1/sprites/%E0%A4%A'), { code: 'invalid_argument' })
})
