import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRedactor } from './redact.ts'

async function through(chunks: string[], secret: string): Promise<string[]> {
  const r = createRedactor(secret, '***')
  const out: string[] = []
  r.on('data', (c: Buffer) => out.push(c.toString()))
  const ended = new Promise((resolve) => r.on('end', resolve))
  for (const c of chunks) r.write(c)
  r.end()
  await ended
  return out
}

test('the secret is replaced, also when split across chunks', async () => {
  const secret = 'org/abcde/t1/s3cr3t'
  const out = await through(
    ['> Authorization: Bearer org/ab', 'cde/t1/s3', 'cr3t\r\n', 'org/'],
    secret,
  )
  assert.equal(out.join(''), '> Authorization: Bearer ***\r\norg/')
  assert.ok(!out.join('').includes('s3cr3t'))
  assert.deepEqual(await through(['a secret and a secret'], 'secret'), ['a *** and a ***'])
})

test('bytes that cannot start the secret are not held back', async () => {
  const out = await through(['progress 10%\r', 'progress 20%\r'], 'tok')
  assert.deepEqual(out, ['progress 10%\r', 'progress 20%\r'])
})
