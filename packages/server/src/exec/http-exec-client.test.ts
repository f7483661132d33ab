import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { test } from 'node:test'
import { HttpExecClient } from './http-exec-client.ts'
import type { ExecSession } from './session.ts'

/** The HTTP chunks of a chunked response, read off the raw socket: one per frame. */
async function rawChunks(port: number): Promise<Buffer[]> {
  const sock = connect(port, '127.0.0.1')
  sock.write('POST /exec HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
  const all: Buffer[] = []
  for await (const d of sock) all.push(d as Buffer)
  let buf = Buffer.concat(all)
  buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4)
  const chunks: Buffer[] = []
  for (;;) {
    const eol = buf.indexOf('\r\n')
    const size = Number.parseInt(buf.subarray(0, eol).toString(), 16)
    if (!size) return chunks
    chunks.push(buf.subarray(eol + 2, eol + 2 + size))
    buf = buf.subarray(eol + 2 + size + 2)
  }
}

test('queued output leaves as few frames as its streams allow, each ≤ 16 KiB, exit last', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', Connection: 'close' })
    const client = new HttpExecClient(res, { detach() {} } as unknown as ExecSession)
    for (let i = 0; i < 100; i++) client.output(1, Buffer.from(`${i},`))
    client.output(2, Buffer.from('err'))
    client.output(1, Buffer.alloc(40 * 1024, 0x61))
    client.output(1, Buffer.alloc(0))
    client.exit(3)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const chunks = await rawChunks((server.address() as AddressInfo).port)
  const frames = chunks.map((c) => ({ stream: c[0], size: c.length - 1 }))
  const expected = Array.from({ length: 100 }, (_, i) => `${i},`).join('')
  assert.equal(chunks[0]?.subarray(1).toString(), expected, 'the first stdout pieces in one frame')
  assert.deepEqual(frames.slice(1), [
    { stream: 2, size: 3 },
    { stream: 1, size: 16 * 1024 },
    { stream: 1, size: 16 * 1024 },
    { stream: 1, size: 8 * 1024 },
    { stream: 3, size: 1 },
  ])
  assert.equal(chunks.at(-1)?.[1], 3)
})
