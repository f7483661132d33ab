import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { parseJSONBody, readJSON } from './body.ts'

const req = (...chunks: string[]) =>
  Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as IncomingMessage

test('empty body is {}', async () => {
  assert.deepEqual(await readJSON(req(), 10), {})
  assert.deepEqual(parseJSONBody(Buffer.from('  \n')), {})
})

test('parses JSON across chunks', async () => {
  assert.deepEqual(await readJSON(req('{"na', 'me":"a"}'), 100), { name: 'a' })
})

test('rejects malformed JSON with invalid_argument', async () => {
  await assert.rejects(readJSON(req('{nope'), 100), {
    code: 'invalid_argument',
    message: /not valid JSON/,
  })
})

test('rejects bodies over the cap with payload_too_large', async () => {
  await assert.rejects(readJSON(req('{"a":"', 'x'.repeat(50), '"}'), 20), {
    code: 'payload_too_large',
  })
  assert.deepEqual(await readJSON(req('{"a":1}'), 7), { a: 1 })
})
