import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { testIO } from '../../../test/fake-api.ts'
import { main } from '../../main.ts'

const ORG = { name: 'personal', running: 0, warm: 0, cold: 1, running_limit: 10, warm_limit: 50 }

/** A list-watch server: each response gets the lines of `lines`, and stays open. */
async function watchServer(t: TestContext, lines: object[]) {
  let onRequest!: (res: ServerResponse, url: URL) => void
  const requested = new Promise<[ServerResponse, URL]>((resolve) => {
    onRequest = (res, url) => resolve([res, url])
  })
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    for (const l of lines) res.write(`${JSON.stringify({ org: ORG, ...l })}\n`)
    onRequest(res, new URL(req.url ?? '/', 'http://x'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requested }
}

test('list --watch prints sprites and changes, not heartbeats; SIGINT ends it with 0', {
  timeout: 10_000,
}, async (t) => {
  const srv = await watchServer(t, [
    { name: 'a1', status: 'cold' },
    { type: 'heartbeat' },
    { name: 'a1', status: 'running' },
  ])
  const env = { SPRITES_API_URL: srv.baseURL, SPRITE_TOKEN: 'personal/abcde/t1/s' }
  const io = testIO({ env, cwd: '/', home: '/nonexistent' })
  const done = main(['list', '-w', '--prefix', 'a'], io)
  const [res, url] = await srv.requested
  assert.equal(url.searchParams.get('prefix'), 'a')
  const closed = new Promise((resolve) => res.once('close', resolve))
  const deadline = Date.now() + 5000
  while (io.out().split('\n').length < 3 && Date.now() < deadline) {
    await new Promise((r) => setImmediate(r))
  }
  process.emit('SIGINT')
  assert.equal(await done, 0)
  await closed
  assert.equal(io.out(), 'a1\tcold\na1\trunning\n')
  assert.equal(io.errText(), '')
  assert.equal(process.listenerCount('SIGINT'), 0, 'the handler is removed')
})
