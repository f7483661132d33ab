import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAPIError } from './api-error.ts'

test('uses the server code and message', () => {
  const err = parseAPIError(404, '{"error":"sprite_not_found","message":"sprite not found: a"}')
  assert.equal(err.code, 'sprite_not_found')
  assert.equal(err.message, 'sprite not found: a')
  assert.equal(err.details.status, 404)
})

test('keeps extra fields such as rate-limit details', () => {
  const body = {
    error: 'sprite_creation_rate_limited',
    message: 'slow down',
    retry_after_seconds: 7,
  }
  const err = parseAPIError(429, JSON.stringify(body))
  assert.equal(err.code, 'sprite_creation_rate_limited')
  assert.equal(err.details.retry_after_seconds, 7)
})

test('non-JSON bodies get a code from the status and the text as message', () => {
  const err = parseAPIError(502, 'Bad Gateway\n')
  assert.equal(err.code, 'bad_gateway')
  assert.equal(err.message, 'Bad Gateway')
  assert.equal(parseAPIError(500, '').message, 'HTTP 500')
  assert.equal(parseAPIError(418, 'teapot').code, 'internal')
  assert.equal(parseAPIError(507, 'Insufficient Storage').code, 'insufficient_storage')
})

test('unknown codes fall back to the status and stay in details', () => {
  const err = parseAPIError(409, '{"error":"quota_thing","message":"nope"}')
  assert.equal(err.code, 'conflict')
  assert.equal(err.details.error, 'quota_thing')
})

test('filesystem errors: text in `error`, errno in `code`', () => {
  const err = parseAPIError(404, '{"error":"no such file","code":"ENOENT","path":"/x"}')
  assert.equal(err.code, 'not_found')
  assert.equal(err.message, 'no such file')
  assert.equal(err.details.code, 'ENOENT')
  assert.equal(err.details.path, '/x')
})
