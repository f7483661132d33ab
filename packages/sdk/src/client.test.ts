import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { sendJSON, spriteWire, startFakeServer } from '../test/fake-server.ts'
import { SpritesClient } from './client.ts'
import type { KillEvent } from './types.ts'

async function setup(t: TestContext, http: Parameters<typeof startFakeServer>[0]['http']) {
  const server = await startFakeServer({ http })
  t.after(() => server.close())
  return {
    server,
    client: new SpritesClient({ baseURL: server.baseURL, token: 'personal/abcde/t1/s' }),
  }
}

test('constructor validates options with actionable messages', () => {
  assert.throws(
    () => new SpritesClient({ baseURL: 'http://x', token: '' }),
    (err: Error & { code?: string }) =>
      err.code === 'invalid_argument' && /SPRITE_TOKEN or pass `token`/.test(err.message),
  )
  assert.throws(() => new SpritesClient({ baseURL: 'ftp://x', token: 't' }), /not an http\(s\) URL/)
  assert.throws(() => new SpritesClient({ baseURL: 'http://x', token: 't', timeoutMs: -1 }))
})

test('listAllSprites follows continuation tokens', async (t) => {
  const pages: Record<string, unknown> = {
    '': {
      sprites: [spriteWire('a'), spriteWire('b')],
      has_more: true,
      next_continuation_token: 'Yg',
    },
    Yg: { sprites: [spriteWire('c')], has_more: false, next_continuation_token: null },
  }
  const { server, client } = await setup(t, (req, res) => {
    sendJSON(res, 200, pages[req.url.searchParams.get('continuation_token') ?? ''])
  })
  const names: string[] = []
  for await (const s of client.listAllSprites('x')) names.push(s.name)
  assert.deepEqual(names, ['a', 'b', 'c'])
  assert.equal(server.requests[0]?.url.searchParams.get('prefix'), 'x')
  assert.equal(server.requests[0]?.headers.authorization, 'Bearer personal/abcde/t1/s')
})

test('createSprite sends snake_case and converts the answer', async (t) => {
  const { server, client } = await setup(t, (_req, res) => sendJSON(res, 201, spriteWire('box')))
  const s = await client.createSprite('box', { labels: ['dev'], urlSettings: { auth: 'public' } })
  assert.equal(s.name, 'box')
  assert.equal(s.config.ramMB, 2048)
  assert.ok(s.createdAt instanceof Date)
  const body = JSON.parse(server.requests[0]?.body.toString() ?? '{}')
  assert.deepEqual(body, { name: 'box', labels: ['dev'], url_settings: { auth: 'public' } })
})

test('HTTP errors become SpritesError with the server code', async (t) => {
  const { client } = await setup(t, (_req, res) =>
    sendJSON(res, 404, { error: 'sprite_not_found', message: 'sprite not found: nope' }),
  )
  await assert.rejects(client.getSprite('nope'), {
    code: 'sprite_not_found',
    message: 'sprite not found: nope',
  })
})

test('deleteSprite accepts 204', async (t) => {
  const { server, client } = await setup(t, (_req, res) => {
    res.writeHead(204).end()
  })
  await client.deleteSprite('box')
  assert.equal(server.requests[0]?.method, 'DELETE')
  assert.equal(server.requests[0]?.url.pathname, '/v1/sprites/box')
})

test('killSession parses the NDJSON stream up to complete', async (t) => {
  const { server, client } = await setup(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('{"type":"signal","message":"Signaling SIGTERM","signal":"SIGTERM","pid":9}\n\n')
    res.write('{"type":"exi')
    res.write('ted","message":"Process exited"}\n')
    res.end('{"type":"complete","exit_code":143}\n')
  })
  const events: KillEvent[] = []
  for await (const ev of client.killSession('box', 7, { signal: 'TERM', timeout: '2s' }))
    events.push(ev)
  assert.deepEqual(
    events.map((e) => e.type),
    ['signal', 'exited', 'complete'],
  )
  assert.deepEqual(events[2], { type: 'complete', exitCode: 143 })
  const url = server.requests[0]?.url
  assert.equal(url?.pathname, '/v1/sprites/box/exec/7/kill')
  assert.equal(url?.searchParams.get('timeout'), '2s')
})

test('killSession surfaces 410 as session_exited', async (t) => {
  const { client } = await setup(t, (_req, res) =>
    sendJSON(res, 410, { error: 'session_exited', message: 'session 7 has exited' }),
  )
  await assert.rejects(
    async () => {
      for await (const _ of client.killSession('box', 7)) {
        /* drain */
      }
    },
    { code: 'session_exited' },
  )
})

test('execHTTP reads one frame per chunk', async (t) => {
  const { server, client } = await setup(t, async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    const frames = [Buffer.from([1, 0x68, 0x69]), Buffer.from([2, 0x21]), Buffer.from([3, 5])]
    for (const f of frames) await new Promise<void>((r) => res.write(f, () => setTimeout(r, 5)))
    res.end()
  })
  const r = await client.execHTTP('box', ['cat'], { stdin: Buffer.from('in') })
  assert.deepEqual(r, { stdout: Buffer.from('hi'), stderr: Buffer.from('!'), exitCode: 5 })
  const req = server.requests[0]
  assert.deepEqual(req?.url.searchParams.getAll('cmd'), ['cat'])
  assert.equal(req?.url.searchParams.get('stdin'), 'true')
  assert.equal(req?.body.toString(), 'in')
})

test('listSessions converts the session list', async (t) => {
  const { client } = await setup(t, (_req, res) =>
    sendJSON(res, 200, {
      sessions: [
        {
          id: 3,
          command: '/usr/bin/sleep 9',
          workdir: '/',
          created: '2026-01-13T10:30:00Z',
          bytes_per_second: 0,
          is_active: false,
          tty: true,
        },
      ],
      count: 1,
    }),
  )
  const [s] = await client.listSessions('box')
  assert.equal(s?.id, 3)
  assert.equal(s?.tty, true)
  assert.equal(s?.created?.toISOString(), '2026-01-13T10:30:00.000Z')
})
