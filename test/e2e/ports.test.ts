// Port events in exec sessions (sprites-api.md §3.6), `ports/watch` (§9.2), the TCP proxy from
// the official SDK and the CLI (`sprite proxy`, automatic forwarding in `sprite exec`).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { SpritesClient } from '@sprites/sdk'
import WebSocket from 'ws'
import { api, type Conn, createSprite, deleteAll, execURL, sh } from './api-helpers.ts'
import { runCLI, SPRITE_BIN, waitFor } from './cli-helpers.ts'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const WAIT_MS = 15_000

interface PortMsg {
  type: string
  port: number
  address: string
  pid: number
  ports?: PortMsg[]
}

/** An exec WebSocket that records text messages and stdout and can send stdin lines. */
interface LiveExec {
  messages: PortMsg[]
  stdout(): string
  send(line: string): void
  exited: Promise<number | null>
  close(): void
}

function liveExec(conn: Conn, name: string, script: string): LiveExec {
  const url = execURL(conn, name, ['sh', '-c', script], { stdin: '' })
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${conn.token}` } })
  const messages: PortMsg[] = []
  let out = ''
  const exited = new Promise<number | null>((resolve) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void messages.push(JSON.parse(data.toString()) as PortMsg)
      if (data[0] === 1) out += data.subarray(1).toString()
      if (data[0] === 3) resolve(data[1] ?? null)
    })
    ws.on('close', () => resolve(null))
    ws.on('error', () => resolve(null))
  })
  return {
    messages,
    stdout: () => out,
    send: (line) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(`${line}\n`)])),
    exited,
    close: () => ws.terminate(),
  }
}

/** A `ports/watch` socket recording every message. */
function watchSocket(conn: Conn, name: string): { messages: PortMsg[]; close(): void } {
  const url = `${conn.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/ports/watch`
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${conn.token}` } })
  const messages: PortMsg[] = []
  ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as PortMsg))
  ws.on('error', () => undefined)
  return { messages, close: () => ws.terminate() }
}

function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', timeout: WAIT_MS }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('GET timed out')))
    req.on('error', reject)
    req.end()
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** A running `sprite` CLI child whose stderr is readable while it runs. */
function startCLI(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [SPRITE_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stdin.on('error', () => undefined)
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)))
  return { child, stderr: () => stderr, stdout: () => stdout, exited }
}

function kill(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

const SERVE = (port: number) =>
  `python3 -m http.server ${port} --bind 127.0.0.1 --directory /tmp >/dev/null 2>&1`

describe('port events and forwarding', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let conn: Conn
  let sprite: string
  const names: string[] = []
  const children: ChildProcess[] = []

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    sprite = uniqueName('ports')
    names.push(sprite)
    await createSprite(conn, sprite)
  })
  after(async () => {
    for (const c of children) kill(c)
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('an exec session gets port_opened and port_closed for its own listener', async () => {
    const other = liveExec(conn, sprite, `${SERVE(8131)} & echo started; read x; kill $!`)
    const e = liveExec(
      conn,
      sprite,
      `${SERVE(8123)} & echo "pid=$!"; read x; kill $!; wait; sleep 2`,
    )
    try {
      const opened = await waitFor('port_opened 8123', () =>
        e.messages.find((m) => m.type === 'port_opened'),
      )
      const pid = Number(/pid=(\d+)/.exec(e.stdout())?.[1])
      assert.deepEqual(opened, { type: 'port_opened', port: 8123, address: '127.0.0.1', pid })
      await waitFor('the other session sees its own port', () =>
        other.messages.find((m) => m.type === 'port_opened' && m.port === 8131),
      )
      e.send('x')
      const closed = await waitFor('port_closed 8123', () =>
        e.messages.find((m) => m.type === 'port_closed'),
      )
      assert.deepEqual(closed, { ...opened, type: 'port_closed' })
      assert.equal(await within(e.exited, 'exit'), 0)
      const foreign = e.messages.filter((m) => m.port === 8131)
      assert.deepEqual(foreign, [], 'ports of another session are not reported')
    } finally {
      other.send('x')
      e.close()
      other.close()
    }
  })

  test('ports/watch lists open ports, then reports changes', async () => {
    await sh(conn, sprite, `setsid -f ${SERVE(8124)}; sleep 1`)
    const w = watchSocket(conn, sprite)
    try {
      const list = await waitFor('port_list', () => w.messages.find((m) => m.type === 'port_list'))
      assert.equal(w.messages[0]?.type, 'port_list')
      const entry = list.ports?.find((p) => p.port === 8124)
      assert.equal(entry?.type, 'port_opened')
      assert.equal(entry?.address, '127.0.0.1')
      assert.ok((entry?.pid ?? 0) > 1)
      const e = liveExec(conn, sprite, `${SERVE(8125)} & read x; kill $!; wait`)
      await waitFor('port_opened 8125', () =>
        w.messages.find((m) => m.type === 'port_opened' && m.port === 8125),
      )
      e.send('x')
      await waitFor('port_closed 8125', () =>
        w.messages.find((m) => m.type === 'port_closed' && m.port === 8125),
      )
      assert.equal(await within(e.exited, 'exit'), 0)
    } finally {
      w.close()
    }
  })

  test('@fly/sprites watchPorts() and proxyPort() work', async () => {
    const { SpritesClient } = await loadFlySDK()
    const s = new SpritesClient(conn.token, { baseURL: conn.baseURL }).sprite(sprite)
    const watcher = await s.watchPorts()
    const local = await freePort()
    const proxy = await s.proxyPort(local, 8124)
    try {
      const first = (await watcher.next()) as unknown as PortMsg
      assert.equal(first.type, 'port_list')
      assert.ok(first.ports?.some((p) => p.port === 8124))
      const r = await httpGet(local)
      assert.equal(r.status, 200)
      assert.match(r.body, /Directory listing/)
      const e = liveExec(conn, sprite, `${SERVE(8126)} & read x; kill $!; wait`)
      let next: PortMsg | null = null
      while (next?.port !== 8126) {
        next = (await within(watcher.next(), 'port 8126')) as unknown as PortMsg | null
      }
      assert.equal(next.type, 'port_opened')
      e.send('x')
      await within(e.exited, 'exit')
    } finally {
      proxy.close()
      watcher.close()
    }
  })

  test('sprite proxy 0:<port> forwards a free local port', async () => {
    const cli = startCLI(['proxy', '-s', sprite, '0:8124'], srv.cliEnv)
    children.push(cli.child)
    try {
      const m = await waitFor('Forwarding line', () =>
        /Forwarding 127\.0\.0\.1:(\d+) -> /.exec(cli.stderr()),
      )
      const r = await httpGet(Number(m[1]))
      assert.equal(r.status, 200)
      cli.child.kill('SIGTERM')
      assert.equal(await within(cli.exited, 'CLI exit'), 0)
    } finally {
      kill(cli.child)
    }
  })

  test('sprite proxy -W relays stdin and stdout over one connection', async () => {
    const r = await runCLI(['proxy', '-s', sprite, '-W', 'localhost:8124'], {
      env: srv.cliEnv,
      input: 'GET / HTTP/1.0\r\n\r\n',
      timeoutMs: WAIT_MS,
    })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^HTTP\/1\.0 200 OK/)
  })

  test('the proxy dials names as the sprite resolves them; unknown names fail clearly', async () => {
    // The sprite's own name is in its /etc/hosts (127.0.1.1): reached on a server bound to all.
    await sh(
      conn,
      sprite,
      'setsid -f python3 -m http.server 8129 --bind 0.0.0.0 --directory /tmp >/dev/null 2>&1; sleep 1',
    )
    const r = await runCLI(['proxy', '-s', sprite, '-W', `${sprite}:8129`], {
      env: srv.cliEnv,
      input: 'GET / HTTP/1.0\r\n\r\n',
      timeoutMs: WAIT_MS,
    })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^HTTP\/1\.0 200 OK/)
    // A name the egress policy denies does not resolve (REFUSED at once, no upstream needed).
    const policy = `/v1/sprites/${sprite}/policy/network`
    const deny = { rules: [{ domain: 'denied.example', action: 'deny' }] }
    assert.equal((await api(conn, 'PUT', policy, { body: deny })).status, 204)
    try {
      const none = await runCLI(['proxy', '-s', sprite, '-W', 'denied.example:80'], {
        env: srv.cliEnv,
        input: '',
        timeoutMs: WAIT_MS,
      })
      assert.notEqual(none.code, 0)
      assert.match(none.stderr, /cannot resolve denied\.example inside the sprite/)
    } finally {
      await api(conn, 'PUT', policy, { body: { rules: [] } })
    }
  })

  test('sprite exec forwards a port that opens, unless --no-port-forward', async () => {
    const script = (port: number) => `${SERVE(port)} & sleep 1; echo ready; read x; kill $!; wait`
    const cli = startCLI(['exec', '-s', sprite, '--', 'sh', '-c', script(8127)], srv.cliEnv)
    children.push(cli.child)
    try {
      const m = await waitFor('Forwarding line', () =>
        /Forwarding 127\.0\.0\.1:(\d+) -> .* port 8127/.exec(cli.stderr()),
      )
      const r = await httpGet(Number(m[1]))
      assert.equal(r.status, 200)
      cli.child.stdin.end('x\n')
      assert.equal(await within(cli.exited, 'CLI exit'), 0)
    } finally {
      kill(cli.child)
    }
    const off = startCLI(
      ['exec', '--no-port-forward', '-s', sprite, '--', 'sh', '-c', script(8128)],
      srv.cliEnv,
    )
    children.push(off.child)
    try {
      await waitFor('ready', () => off.stdout().includes('ready'))
      await new Promise((r) => setTimeout(r, 2_000))
      assert.doesNotMatch(off.stderr(), /Forwarding/)
      off.child.stdin.end('x\n')
      assert.equal(await within(off.exited, 'CLI exit'), 0)
    } finally {
      kill(off.child)
    }
  })
  test('ports/watch on a cold sprite: empty list, no wake, events once it runs', async () => {
    const cold = uniqueName('ports-cold')
    names.push(cold)
    await createSprite(conn, cold)
    const client = new SpritesClient({ baseURL: conn.baseURL, token: conn.token })
    const watch = await client.watchPorts(cold)
    try {
      assert.equal(watch.ports.length, 0)
      await new Promise((r) => setTimeout(r, 1_000))
      const info = await api(conn, 'GET', `/v1/sprites/${cold}`)
      assert.equal((info.json as { status?: string }).status, 'cold')
      const opened = new Promise<number>((resolve) => watch.on('opened', (p) => resolve(p.port)))
      const e = liveExec(conn, cold, `${SERVE(8129)} & read x; kill $!; wait`)
      assert.equal(await within(opened, 'opened 8129'), 8129)
      assert.deepEqual(
        watch.ports.map((p) => [p.port, p.address]),
        [[8129, '127.0.0.1']],
      )
      const closed = new Promise<number>((resolve) => watch.on('closed', (p) => resolve(p.port)))
      e.send('x')
      assert.equal(await within(closed, 'closed 8129'), 8129)
      await within(e.exited, 'exit')
    } finally {
      watch.close()
    }
  })
})
