// The filesystem watch (sprites-api.md §5 F9) against a real sprite: through the official
// `sprite.filesystem().watch()` of @fly/sprites, and as a raw WebSocket.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import WebSocket from 'ws'
import { type Conn, sh, waitUntil } from './api-helpers.ts'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0

// biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
type Any = any
type Msg = Record<string, unknown>

/** Collects a watcher's messages; `until` waits (bounded) for one that matches. */
function collector(on: (fn: (m: Msg) => void) => void) {
  const seen: Msg[] = []
  on((m) => seen.push(m))
  return {
    seen,
    async until(pred: (m: Msg) => boolean, what: string, ms = 10_000): Promise<Msg> {
      await waitUntil(() => seen.some(pred), ms, `${what}; got ${JSON.stringify(seen)}`)
      return seen.find(pred) as Msg
    },
  }
}

const ev = (event: string, path: string) => (m: Msg) =>
  m.type === 'event' && m.event === event && m.path === path

/** Count of sprite-fswatch processes in the sprite. */
async function watchers(conn: Conn, name: string): Promise<number> {
  const out = await sh(conn, name, 'ps -eo args | grep -c "[s]prite-fswatch" || true')
  return Number(out.trim())
}

describe('filesystem watch', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let conn: Conn
  let client: Any
  let sprite: Any
  let name: string
  const dir = '/home/sprite/w'

  before(async () => {
    // Short hibernation timers: the last test waits for the sprite to go cold under a watch.
    srv = await startSpritesd({
      SPRITES_WARM_AFTER_MS: '3000',
      SPRITES_COLD_AFTER_MS: '2500',
      SPRITES_LIFECYCLE_TICK_MS: '250',
    })
    conn = { baseURL: srv.baseURL, token: srv.token }
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
    name = uniqueName('fsw')
    sprite = await client.createSprite(name)
    await sh(conn, name, `mkdir -p ${dir}`)
  })
  after(async () => {
    if (name) await client?.deleteSprite(name).catch(() => undefined)
    await srv?.stop()
  })

  test('SDK watch: create, write, rename, remove and a new subdirectory', async () => {
    const w = await sprite.filesystem('/home/sprite').watch('w', { recursive: true })
    try {
      const c = collector((fn) => w.on('event', fn))
      await c.until((m) => m.type === 'subscribed', 'subscribed')
      assert.deepEqual(c.seen[0], { type: 'subscribed', paths: [dir] })
      await sh(conn, name, `cd ${dir} && echo hello > a.txt && mv a.txt b.txt && rm b.txt`)
      const created = await c.until(ev('create', `${dir}/a.txt`), 'create a.txt')
      assert.equal(created.isDir, false)
      assert.match(String(created.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
      const written = await c.until(ev('write', `${dir}/a.txt`), 'write a.txt')
      assert.equal(typeof written.size, 'number')
      await c.until(ev('rename', `${dir}/a.txt`), 'rename a.txt')
      await c.until(ev('create', `${dir}/b.txt`), 'create b.txt (the rename target)')
      await c.until(ev('remove', `${dir}/b.txt`), 'remove b.txt')
      await sh(conn, name, `mkdir ${dir}/sub && sleep 0.3 && echo x > ${dir}/sub/deep.txt`)
      const sub = await c.until(ev('create', `${dir}/sub`), 'create sub')
      assert.equal(sub.isDir, true)
      await c.until(ev('write', `${dir}/sub/deep.txt`), 'write in the new subdirectory')
      await sh(conn, name, `chmod 600 ${dir}/sub/deep.txt`)
      await c.until(ev('chmod', `${dir}/sub/deep.txt`), 'chmod')
    } finally {
      w.close()
    }
  })

  test('raw WS: errors, unsubscribe stops events, closing ends the watcher', async () => {
    const url = `${conn.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/fs/watch`
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${conn.token}` } })
    const c = collector((fn) => ws.on('message', (d) => fn(JSON.parse(String(d)))))
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    try {
      await new Promise((res, rej) => ws.once('open', res).once('error', rej))
      ws.send(
        JSON.stringify({ type: 'subscribe', paths: ['w', '/nope'], workingDir: '/home/sprite' }),
      )
      await c.until((m) => m.type === 'subscribed', 'subscribed')
      const err = await c.until((m) => m.type === 'error', 'error for /nope')
      assert.equal(err.path, '/nope')
      assert.match(String(err.message), /ENOENT/)
      ws.send('not json')
      await c.until((m) => m.type === 'error' && /JSON/.test(String(m.message)), 'bad frame')
      await sh(conn, name, `touch ${dir}/one`)
      await c.until(ev('create', `${dir}/one`), 'create one')
      ws.send(JSON.stringify({ type: 'unsubscribe', paths: [dir] }))
      await new Promise((r) => setTimeout(r, 500))
      await sh(conn, name, `touch ${dir}/two && rm ${dir}/one`)
      await new Promise((r) => setTimeout(r, 700))
      assert.equal(c.seen.filter((m) => String(m.path).endsWith('/two')).length, 0)
      assert.equal(c.seen.filter(ev('remove', `${dir}/one`)).length, 0)
      assert.equal(await watchers(conn, name), 1)
    } finally {
      ws.close()
    }
    await closed
    await waitUntil(async () => (await watchers(conn, name)) === 0, 5_000, 'watcher gone')
  })

  test('a watch does not keep the sprite awake; it closes with 1001 when it goes cold', async () => {
    const w = await sprite.filesystem().watch('/home/sprite', {})
    const url = `${conn.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/fs/watch`
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${conn.token}` } })
    let code = 0
    ws.once('close', (c) => {
      code = c
    })
    try {
      await new Promise((res, rej) => ws.once('open', res).once('error', rej))
      ws.send(JSON.stringify({ type: 'subscribe', paths: ['/home/sprite'] }))
      const status = async () => (await client.getSprite(name)).status
      await waitUntil(async () => (await status()) === 'warm', 15_000, 'the sprite is warm')
      assert.equal(code, 0, 'a warm (frozen) sprite keeps the socket open')
      await waitUntil(() => code !== 0, 20_000, 'the raw socket closed as the sprite went cold')
      assert.equal(code, 1001)
      // The socket closes while the sandbox is being stopped; the status follows.
      await waitUntil(async () => (await status()) === 'cold', 10_000, 'the sprite is cold')
      await waitUntil(() => w.isClosed(), 5_000, 'SDK watcher closed')
    } finally {
      ws.close()
      w.close()
    }
  })

  test('a watch on a cold sprite does not wake it; it starts once something else does', async () => {
    const status = async () => (await client.getSprite(name)).status
    await waitUntil(async () => (await status()) === 'cold', 30_000, 'the sprite is cold')
    const url = `${conn.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/fs/watch`
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${conn.token}` } })
    const c = collector((fn) => ws.on('message', (d) => fn(JSON.parse(String(d)))))
    try {
      await new Promise((res, rej) => ws.once('open', res).once('error', rej))
      ws.send(JSON.stringify({ type: 'subscribe', paths: [dir] }))
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal(await status(), 'cold', 'the watch did not wake the sprite')
      assert.deepEqual(c.seen, [], 'nothing is watched yet')
      await sh(conn, name, 'true')
      await c.until((m) => m.type === 'subscribed', 'subscribed once the sprite runs')
      await sh(conn, name, `touch ${dir}/after-wake`)
      await c.until(ev('create', `${dir}/after-wake`), 'create after the wake')
    } finally {
      ws.close()
    }
  })
})
