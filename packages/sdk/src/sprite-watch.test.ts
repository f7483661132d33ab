import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startFakeServer } from '../test/fake-server.ts'
import { SpritesClient } from './client.ts'
import type { SpriteWatchEvent } from './sprite-watch.ts'

const ORG = { name: 'personal', running: 0, warm: 0, cold: 1, running_limit: 10, warm_limit: 50 }

test('watchSprites yields the snapshot, then changes, until the signal aborts', async (t) => {
  let closed!: () => void
  const connectionClosed = new Promise<void>((resolve) => {
    closed = resolve
  })
  const server = await startFakeServer({
    http(req, res) {
      assert.equal(req.headers.accept, 'application/x-ndjson')
      assert.equal(req.url.searchParams.get('prefix'), 'a')
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(`${JSON.stringify({ name: 'a1', status: 'cold', timestamp: 'x', org: ORG })}\n`)
      res.write(`${JSON.stringify({ type: 'heartbeat', timestamp: 'x', org: ORG })}\n`)
      res.write(`${JSON.stringify({ name: 'a1', status: 'running', org: ORG })}\n`)
      res.on('close', closed)
    },
  })
  t.after(() => server.close())
  const client = new SpritesClient({ baseURL: server.baseURL, token: 'personal/abcde/t1/s' })
  const ac = new AbortController()
  const seen: SpriteWatchEvent[] = []
  for await (const e of client.watchSprites({ prefix: 'a', signal: ac.signal })) {
    seen.push(e)
    if (seen.length === 3) ac.abort()
  }
  assert.deepEqual(
    seen.map((e) => (e.type === 'sprite' ? `${e.name}=${e.status}` : e.type)),
    ['a1=cold', 'heartbeat', 'a1=running'],
  )
  assert.equal(seen[0]?.org.cold, 1)
  await connectionClosed // the abort closes the connection (the test would time out otherwise)
})
