// Deleting a sprite (sprites-api.md §2.2 M6) closes its `ports/watch` (§9.2), `/proxy` (§9.1)
// and `fs/watch` (§5) sockets with 1001, as it does exec sockets.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import WebSocket from 'ws'
import { api, type Conn, createSprite, deleteAll, sh } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const WAIT_MS = 10_000
const PORT = 8141

interface Closed {
  code: number
  reason: string
}

/** An open WebSocket to `path` of the API, with its first text messages and its close. */
interface Socket {
  ws: WebSocket
  messages: Record<string, unknown>[]
  closed: Promise<Closed>
}

function open(conn: Conn, path: string): Promise<Socket> {
  const url = `${conn.baseURL.replace(/^http/, 'ws')}${path}`
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${conn.token}` } })
  const messages: Record<string, unknown>[] = []
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (!isBinary) messages.push(JSON.parse(d.toString()) as Record<string, unknown>)
  })
  const closed = new Promise<Closed>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })),
  )
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }))
    ws.once('error', reject)
  })
}

/** `p`, or a rejection naming `what` after {@link WAIT_MS}. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

async function firstMessage(s: Socket, type: string, key = 'type'): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!s.messages.some((m) => m[key] === type)) {
    if (Date.now() > deadline) throw new Error(`no ${type} message: ${JSON.stringify(s.messages)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('deleting a sprite closes its sockets', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []
  const sockets: WebSocket[] = []

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    for (const ws of sockets) ws.terminate()
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('ports/watch and /proxy close with 1001', async () => {
    const name = uniqueName('delsock')
    names.push(name)
    await createSprite(conn, name)
    await sh(
      conn,
      name,
      `setsid -f python3 -m http.server ${PORT} --bind 127.0.0.1 --directory /tmp >/dev/null 2>&1; sleep 1`,
    )
    const watch = await open(conn, `/v1/sprites/${name}/ports/watch`)
    sockets.push(watch.ws)
    await firstMessage(watch, 'port_list')
    const proxy = await open(conn, `/v1/sprites/${name}/proxy`)
    sockets.push(proxy.ws)
    proxy.ws.send(JSON.stringify({ host: 'localhost', port: PORT }))
    await firstMessage(proxy, 'connected', 'status')

    const del = await api(conn, 'DELETE', `/v1/sprites/${name}`, { timeoutMs: 60_000 })
    assert.equal(del.status, 204, del.text)
    const [w, p] = await Promise.all([
      within(watch.closed, 'the ports/watch close'),
      within(proxy.closed, 'the proxy close'),
    ])
    assert.equal(w.code, 1001, `ports/watch: ${JSON.stringify(w)}`)
    assert.equal(p.code, 1001, `proxy: ${JSON.stringify(p)}`)
    assert.equal(w.reason, 'sprite deleted')
    assert.equal(p.reason, 'sprite deleted')
  })

  test('an fs/watch waiting for a cold sprite closes with 1001', async () => {
    const name = uniqueName('delfsw')
    names.push(name)
    await createSprite(conn, name)
    const watch = await open(conn, `/v1/sprites/${name}/fs/watch`)
    sockets.push(watch.ws)
    const status = await api(conn, 'GET', `/v1/sprites/${name}`)
    assert.equal((status.json as { status: string }).status, 'cold', 'the watch did not wake it')
    const del = await api(conn, 'DELETE', `/v1/sprites/${name}`, { timeoutMs: 60_000 })
    assert.equal(del.status, 204, del.text)
    const w = await within(watch.closed, 'the fs/watch close')
    assert.deepEqual(w, { code: 1001, reason: 'sprite deleted' })
  })
})
