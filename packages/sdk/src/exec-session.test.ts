import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import type { WebSocket } from 'ws'
import { type FakeRequest, sessionInfo, startFakeServer } from '../test/fake-server.ts'
import { SpritesClient } from './client.ts'
import type { ExecSession } from './exec-session.ts'

async function setup(t: TestContext, ws: (ws: WebSocket, req: FakeRequest) => void) {
  const server = await startFakeServer({
    ws,
    http: (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"error":"session_not_found","message":"session not found: 9"}')
    },
  })
  t.after(() => server.close())
  return { server, client: new SpritesClient({ baseURL: server.baseURL, token: 'tok' }) }
}

function collect(s: ExecSession) {
  const out = { stdout: '', stderr: '', messages: [] as unknown[] }
  s.on('stdout', (b) => {
    out.stdout += b.toString()
  })
  s.on('stderr', (b) => {
    out.stderr += b.toString()
  })
  s.on('message', (m) => out.messages.push(m))
  return out
}

test('non-TTY: decodes stdout, stderr and exit frames, ignores keepalives', async (t) => {
  const { server, client } = await setup(t, (ws) => {
    ws.send(Buffer.alloc(0))
    ws.send(sessionInfo(4, false))
    ws.send(Buffer.from([1, ...Buffer.from('out')]))
    ws.send(Buffer.alloc(0))
    ws.send('{"type":"port_opened","port":8080}')
    ws.send(Buffer.from([2, ...Buffer.from('err')]))
    ws.send(Buffer.from([3, 42]))
  })
  const s = client.exec('box', ['sh', '-c', 'exit 42'], { env: { A: '1' }, dir: '/tmp' })
  const out = collect(s)
  let info: unknown
  s.on('sessionInfo', (i) => {
    info = i
  })
  assert.equal(await s.wait(), 42)
  assert.equal(out.stdout, 'out')
  assert.equal(out.stderr, 'err')
  assert.deepEqual(out.messages, [{ type: 'port_opened', port: 8080 }])
  assert.equal((info as { sessionID: number }).sessionID, 4)
  const q = server.requests[0]?.url.searchParams
  assert.deepEqual(q?.getAll('cmd'), ['sh', '-c', 'exit 42'])
  assert.deepEqual([q?.get('env'), q?.get('dir'), q?.get('tty')], ['A=1', '/tmp', null])
  assert.equal(server.requests[0]?.headers.authorization, 'Bearer tok')
})

test('non-TTY: stdin frames and EOF are sent', async (t) => {
  const received: Buffer[] = []
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(2, false))
    ws.on('message', (data: Buffer) => {
      received.push(data)
      if (data.length === 1 && data[0] === 4) ws.send(Buffer.from([3, 0]))
    })
  })
  const s = client.exec('box', ['cat'], { stdin: true })
  s.write('hello')
  s.endStdin()
  assert.equal(await s.wait(), 0)
  assert.deepEqual(received, [Buffer.from([0, ...Buffer.from('hello')]), Buffer.from([4])])
})

test('input waits for session_info: a server still starting the process loses nothing', async (t) => {
  const received: Buffer[] = []
  let started = false
  const { client } = await setup(t, (ws) => {
    ws.on('message', (data: Buffer) => {
      received.push(data)
      if (!started) ws.send(Buffer.from([3, 99])) // input before session_info: fail loudly
    })
    setTimeout(() => {
      started = true
      ws.send(sessionInfo(3, false))
    }, 100)
    ws.on('message', (data: Buffer) => {
      if (data.length === 1 && data[0] === 4) ws.send(Buffer.from([3, 0]))
    })
  })
  const s = client.exec('box', ['cat'], { stdin: true })
  s.write('early')
  s.endStdin()
  assert.equal(await s.wait(), 0)
  assert.deepEqual(received, [Buffer.from([0, ...Buffer.from('early')]), Buffer.from([4])])
})

test('attach: input before session_info is framed for the mode the session turns out to have', async (t) => {
  const received: (Buffer | string)[] = []
  const { client } = await setup(t, (ws) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      received.push(isBinary ? data : data.toString())
      if (received.length === 2) {
        ws.send('{"type":"exit","exit_code":0}')
        ws.close(1000)
      }
    })
    setTimeout(() => ws.send(sessionInfo(5, true)), 50)
  })
  const s = client.attach('box', 5)
  s.write('ls\r')
  s.resize(100, 30)
  s.endStdin()
  assert.equal(await s.wait(), 0)
  assert.deepEqual(received, [
    Buffer.from('ls\r'),
    JSON.stringify({ type: 'resize', cols: 100, rows: 30 }),
  ])
})

test('TTY: raw output and the exit message', async (t) => {
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(1, true))
    ws.send(Buffer.alloc(0))
    ws.send(Buffer.from('\x01raw'))
    ws.send('{"type":"exit","exit_code":3}')
    ws.close(4003, 'exit 3')
  })
  const s = client.exec('box', ['bash'], { tty: true, rows: 40, cols: 100 })
  const out = collect(s)
  assert.equal(await s.wait(), 3)
  assert.equal(out.stdout, '\x01raw')
})

test('TTY: exit code from the close code when no exit message came', async (t) => {
  let n = 0
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(1, true))
    ws.close(n++ === 0 ? 4007 : 1000)
  })
  assert.equal(await client.exec('box', ['bash'], { tty: true }).wait(), 7)
  assert.equal(await client.exec('box', ['bash'], { tty: true }).wait(), 0)
})

test('close 1001 without an exit rejects wait()', async (t) => {
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(1, true))
    ws.close(1001, 'going away')
  })
  await assert.rejects(client.exec('box', ['bash'], { tty: true }).wait(), {
    code: 'sprite_unavailable',
    message: /1001 going away/,
  })
})

test('abnormal close (1006) rejects wait()', async (t) => {
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(1, false))
    ws.terminate()
  })
  await assert.rejects(client.exec('box', ['ls']).wait(), { code: 'internal', message: /1006/ })
})

test('attach follows the session mode and reports HTTP errors before the upgrade', async (t) => {
  const { server, client } = await setup(t, (ws) => {
    ws.send(sessionInfo(5, true))
    ws.send(Buffer.from('screen'))
    ws.send('{"type":"exit","exit_code":0}')
    ws.close(1000)
  })
  const s = client.attach('box', 5)
  const out = collect(s)
  assert.equal(await s.wait(), 0)
  assert.equal(out.stdout, 'screen')
  assert.equal(s.isTTY, true)
  assert.equal(server.requests[0]?.url.pathname, '/v1/sprites/box/exec/5')
})

test('resize and signal are JSON text messages', async (t) => {
  const texts: string[] = []
  const { client } = await setup(t, (ws) => {
    ws.send(sessionInfo(1, true))
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) texts.push(data.toString())
      if (texts.length === 2) ws.close(1000)
    })
  })
  const s = client.exec('box', ['bash'], { tty: true })
  s.resize(120, 40)
  s.signal('int')
  assert.equal(await s.wait(), 0)
  assert.deepEqual(
    texts.map((x) => JSON.parse(x)),
    [
      { type: 'resize', cols: 120, rows: 40 },
      { type: 'signal', signal: 'SIGINT' },
    ],
  )
  assert.throws(() => s.signal('NOPE'), { code: 'invalid_argument' })
})
