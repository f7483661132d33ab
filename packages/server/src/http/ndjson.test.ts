import assert from 'node:assert/strict'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startNDJSON } from './ndjson.ts'

test('drained() holds a writer back while the client does not read', async (t) => {
  const lines = 100_000
  let peakBuffered = 0
  let written = 0
  const server = createServer(async (_req, res) => {
    const stream = startNDJSON(res)
    for (let i = 0; i < lines && !stream.closed; i++) {
      stream.write({ type: 'stdout', data: `line ${i} ${'x'.repeat(80)}`, timestamp: i })
      written++
      peakBuffered = Math.max(peakBuffered, res.writableLength)
      await stream.drained()
    }
    stream.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { port } = server.address() as AddressInfo
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.pause()
      // Not reading for a while: the writer must wait instead of buffering everything.
      setTimeout(() => {
        assert.ok(written < lines, `the writer waited (${written} of ${lines} written)`)
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => resolve(Buffer.concat(chunks).toString()))
        res.resume()
      }, 300)
    })
      .on('error', reject)
      .end()
  })
  const got = body.trimEnd().split('\n')
  assert.equal(got.length, lines)
  assert.equal(JSON.parse(got.at(-1) as string).timestamp, lines - 1)
  assert.ok(peakBuffered < 4 * 1024 * 1024, `at most a few MiB held (${peakBuffered})`)
})

test('drained() resolves when the client goes', async (t) => {
  const server = createServer(async (_req, res) => {
    const stream = startNDJSON(res)
    for (let i = 0; !stream.closed; i++) {
      stream.write({ i, pad: 'y'.repeat(1000) })
      await stream.drained()
    }
    server.emit('writer-done')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { port } = server.address() as AddressInfo
  const done = new Promise((resolve) => server.once('writer-done', resolve))
  const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
    res.pause()
    setTimeout(() => req.destroy(), 100)
  })
  req.on('error', () => undefined).end()
  await done
})
