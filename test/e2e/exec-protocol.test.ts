// Exec wire details the official SDK does not exercise, checked with a raw WebSocket client.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

interface Conn {
  ws: WebSocket
  texts: Array<Record<string, unknown>>
  out: Buffer[]
  exit: Promise<{ code: number | null; closeCode: number }>
  headers: Record<string, string | string[] | undefined>
}

describe('exec protocol', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const name = uniqueName('proto')

  before(async () => {
    srv = await startSpritesd()
    const r = await api('POST', '/v1/sprites', { name })
    assert.equal(r.status, 201)
  })
  after(async () => {
    await api('DELETE', `/v1/sprites/${name}`).catch(() => undefined)
    await srv?.stop()
  })

  function api(method: string, path: string, body?: unknown) {
    return fetch(`${srv.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${srv.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }

  function connect(path: string): Promise<Conn> {
    const url = `${srv.baseURL.replace('http', 'ws')}${path}`
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${srv.token}` } })
    const texts: Array<Record<string, unknown>> = []
    const out: Buffer[] = []
    let exitCode: number | null = null
    const exit = new Promise<{ code: number | null; closeCode: number }>((resolve) => {
      ws.on('close', (closeCode) => resolve({ code: exitCode, closeCode }))
    })
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) texts.push(JSON.parse(data.toString()))
      else if (data[0] === 3 && data.length === 2) {
        exitCode = data[1] as number
        ws.close(1000)
      } else if (data.length > 0) out.push(data)
    })
    return new Promise((resolve, reject) => {
      ws.once('upgrade', (res) => {
        ws.once('message', () => resolve({ ws, texts, out, exit, headers: res.headers }))
      })
      ws.once('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (d: Buffer) => {
          body += d.toString()
        })
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${url} ${body}`)))
      })
      ws.once('error', reject)
    })
  }

  test('101 carries Sprite-Version and the signal capability; session_info comes first', async () => {
    const c = await connect(`/v1/sprites/${name}/exec?cmd=echo&cmd=hi`)
    const { code } = await c.exit
    assert.ok(c.headers['sprite-version'])
    assert.equal(c.headers['x-sprite-capabilities'], 'signal')
    assert.equal(c.texts[0]?.type, 'session_info')
    assert.equal(c.texts[0]?.is_owner, true)
    assert.equal(c.texts[0]?.tty, false)
    assert.equal(typeof c.texts[0]?.session_id, 'number')
    assert.equal(Buffer.concat(c.out).toString(), '\x01hi\n')
    assert.equal(code, 0)
  })

  test('HEAD /exec answers 200 with Sprite-Version', async () => {
    const r = await api('HEAD', `/v1/sprites/${name}/exec`)
    assert.equal(r.status, 200)
    assert.ok(r.headers.get('sprite-version'))
  })

  test('stdin EOF frame closes stdin; stdin=false gives /dev/null', async () => {
    const c = await connect(`/v1/sprites/${name}/exec?cmd=wc&cmd=-c&stdin=true`)
    c.ws.send(Buffer.from([0, ...Buffer.from('abcd')]))
    c.ws.send(Buffer.from([4]))
    const { code } = await c.exit
    assert.equal(code, 0)
    assert.match(Buffer.concat(c.out).subarray(1).toString(), /^4\n/)
    const d = await connect(`/v1/sprites/${name}/exec?cmd=cat`)
    assert.equal((await d.exit).code, 0)
  })

  test('TTY exit: exit message, then close 4000+code', async () => {
    const c = await connect(`/v1/sprites/${name}/exec?cmd=sh&cmd=-c&cmd=exit+5&tty=true`)
    const { closeCode } = await c.exit
    assert.deepEqual(
      c.texts.find((t) => t.type === 'exit'),
      { type: 'exit', exit_code: 5 },
    )
    assert.equal(closeCode, 4005)
  })

  test('attach by all three URL forms replays non-TTY scrollback with stream tags', async () => {
    const owner = await connect(
      `/v1/sprites/${name}/exec?cmd=sh&cmd=-c&cmd=echo+o;echo+e+>%262;sleep+30&detachable=true`,
    )
    const id = owner.texts[0]?.session_id as number
    await waitFor(() => owner.out.length >= 2)
    owner.ws.close()
    await owner.exit
    for (const path of [`exec/${id}`, `exec?id=${id}`, `exec?session_id=${id}`]) {
      const a = await connect(`/v1/sprites/${name}/${path}`)
      assert.equal(a.texts[0]?.type, 'session_info')
      assert.equal(a.texts[0]?.is_owner, false)
      await waitFor(() => Buffer.concat(a.out).length >= 6)
      const frames = a.out.map((f) => f.toString())
      assert.deepEqual(frames.sort(), ['\x01o\n', '\x02e\n'])
      a.ws.close()
    }
    const kill = await api('POST', `/v1/sprites/${name}/exec/${id}/kill?signal=KILL`)
    const lines = (await kill.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(lines.at(-1).type, 'complete')
    assert.equal(lines.at(-1).exit_code, 137)
    const gone = await api('POST', `/v1/sprites/${name}/exec/${id}/kill`)
    assert.equal(gone.status, 410)
  })

  test('max_run_after_disconnect ends a detached non-TTY session', async () => {
    const c = await connect(
      `/v1/sprites/${name}/exec?cmd=sleep&cmd=60&max_run_after_disconnect=500ms`,
    )
    const id = c.texts[0]?.session_id as number
    c.ws.close()
    await waitFor(async () => {
      const list = (await (await api('GET', `/v1/sprites/${name}/exec`)).json()) as {
        sessions: Array<{ id: number }>
      }
      return !list.sessions.some((s) => s.id === id)
    }, 5000)
  })

  test('session list shape and kill with timeout=0 only signals', async () => {
    const c = await connect(
      `/v1/sprites/${name}/exec?cmd=sh&cmd=-c&cmd=trap+''+TERM;echo+ready;sleep+30`,
    )
    const id = c.texts[0]?.session_id as number
    // The TERM sent below must find the trap in place.
    await waitFor(() => Buffer.concat(c.out).toString().includes('ready'))
    const list = (await (await api('GET', `/v1/sprites/${name}/exec`)).json()) as {
      sessions: Array<Record<string, unknown>>
      count: number
    }
    const s = list.sessions.find((x) => x.id === id)
    assert.ok(s)
    assert.equal(list.count, list.sessions.length)
    assert.equal(s.command, "/usr/bin/sh -c trap '' TERM;echo ready;sleep 30")
    assert.equal(s.workdir, '/home/sprite')
    assert.equal(s.is_active, true)
    const r = await api('POST', `/v1/sprites/${name}/exec/${id}/kill?signal=TERM&timeout=0s`)
    const events = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      events.map((e) => e.type),
      ['signal', 'complete'],
    )
    assert.equal(events[0].signal, 'SIGTERM')
    c.ws.send(JSON.stringify({ type: 'signal', signal: 'KILL' }))
    assert.equal((await c.exit).code, 137)
  })
})

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now()
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition')
    await new Promise((r) => setTimeout(r, 50))
  }
}
