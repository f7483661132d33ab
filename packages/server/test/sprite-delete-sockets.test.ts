// Deleting a sprite (sprites-api.md §2.2 M6) closes its `ports/watch` (§9.2) and `/proxy` (§9.1)
// sockets with 1001; a sprite that only stops keeps its `ports/watch` sockets.
import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import type { PortWatcher, Sandbox } from '@sprites/runtime'
import WebSocket from 'ws'
import { PortHub } from '../src/ports/port-hub.ts'
import { portsWatchModule } from '../src/ports/ports-watch-routes.ts'
import { tcpProxyModule } from '../src/proxy/tcp-proxy-routes.ts'
import { startTestServer } from './harness.ts'

type Json = Record<string, unknown>

/** A watcher that knows no ports. */
function idleWatcher(): PortWatcher {
  const w = new EventEmitter() as PortWatcher
  w.current = () => []
  w.ready = () => Promise.resolve()
  w.stop = () => undefined
  return w
}

async function openSocket(t: TestContext, url: string, token: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
  t.after(() => ws.terminate())
  const messages: Json[] = []
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (!isBinary) messages.push(JSON.parse(d.toString()) as Json)
  })
  const closing = once(ws, 'close').then(([code, reason]) => ({
    code: code as number,
    reason: String(reason),
  }))
  const closed = () => within(closing, 'the close')
  await once(ws, 'open')
  const next = async (key: string, value: string) => {
    for (let i = 0; i < 200 && !messages.some((m) => m[key] === value); i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    assert.ok(
      messages.some((m) => m[key] === value),
      `no ${value}: ${JSON.stringify(messages)}`,
    )
  }
  return { ws, closed, next }
}

test('ports/watch: open across a stop, 1001 on delete (running or cold)', async (t) => {
  const host = new EventEmitter()
  const hub = new PortHub({ host, watch: idleWatcher })
  // Pings every minute: the closes below must not wait for the ping tick.
  const h = await startTestServer(t, { modules: [portsWatchModule(hub, 60_000)] })
  const wsURL = h.url.replace(/^http/, 'ws')
  const create = async (name: string) =>
    ((await (await h.request('POST', '/v1/sprites', { body: { name } })).json()) as { id: string })
      .id

  const id = await create('warmish')
  const a = await openSocket(t, `${wsURL}/v1/sprites/warmish/ports/watch`, h.token)
  await a.next('type', 'port_list')
  host.emit('booted', { id }, { pid: 1 })
  host.emit('stopped', id, 'sprite stopped')
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(a.ws.readyState, WebSocket.OPEN, 'a stop keeps the socket')
  assert.equal((await h.request('DELETE', '/v1/sprites/warmish')).status, 204)
  assert.deepEqual(await a.closed(), { code: 1001, reason: 'sprite deleted' })

  await create('cold')
  const b = await openSocket(t, `${wsURL}/v1/sprites/cold/ports/watch`, h.token)
  await b.next('type', 'port_list')
  assert.equal((await h.request('DELETE', '/v1/sprites/cold')).status, 204)
  assert.deepEqual(await b.closed(), { code: 1001, reason: 'sprite deleted' })
})

test('/proxy: 1001 with the host reason when the sprite stops, 1000 when TCP ends', async (t) => {
  const peers: Socket[] = []
  const tcp = createServer((s) => peers.push(s.on('error', () => undefined)))
  tcp.listen(0, '127.0.0.1')
  await once(tcp, 'listening')
  t.after(() => {
    for (const s of peers) s.destroy()
    tcp.close()
  })
  const port = (tcp.address() as { port: number }).port
  const host = new EventEmitter()
  const sandbox = { connect: dial } as unknown as Sandbox
  const proxyHost = Object.assign(host, { ensureRunning: async () => sandbox })
  const h = await startTestServer(t, { modules: [tcpProxyModule({ host: proxyHost })] })
  const created = await h.request('POST', '/v1/sprites', { body: { name: 'px' } })
  const id = ((await created.json()) as { id: string }).id
  const url = `${h.url.replace(/^http/, 'ws')}/v1/sprites/px/proxy?host=127.0.0.1&port=${port}`

  const a = await openSocket(t, url, h.token)
  await a.next('status', 'connected')
  host.emit('stopped', id, 'sprite deleted')
  assert.deepEqual(await a.closed(), { code: 1001, reason: 'sprite deleted' })

  const b = await openSocket(t, url, h.token)
  await b.next('status', 'connected')
  peers.at(-1)?.end()
  assert.equal((await b.closed()).code, 1000)
})

/** `p`, or a rejection naming `what` after 5 s. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5_000)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** A TCP connection from the host, standing in for one from inside the sprite. */
function dial(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => resolve(s))
    s.once('error', reject)
  })
}
