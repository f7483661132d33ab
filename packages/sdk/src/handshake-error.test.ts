import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { SpritesClient } from './client.ts'

test('an HTTP error before the upgrade rejects wait() with the server error', async (t) => {
  const server = createServer()
  server.on('upgrade', (_req, socket) => {
    const body = '{"error":"session_not_found","message":"session not found: 9"}'
    socket.end(
      `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  const { port } = server.address() as AddressInfo
  const client = new SpritesClient({ baseURL: `http://127.0.0.1:${port}`, token: 'tok' })
  await assert.rejects(client.attach('box', 9).wait(), {
    code: 'session_not_found',
    message: 'session not found: 9',
  })
})
