import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Duplex } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { noopLogger } from '@sprites/protocol'
import type { OrgRecord, SpriteRecord } from '@sprites/store'
import { startNDJSON } from '../http/ndjson.ts'
import { sendJSON } from '../http/respond.ts'
import { createInSpriteAPI, type InSpriteAPI } from './insprite-api.ts'

const run = promisify(execFile)
const SPRITE_ENV = new URL('../../../runtime/sprite-bin/sprite-env', import.meta.url).pathname

const sprite = {
  id: 'sprite-11111111-2222-4333-8444-555555555555',
  name: 'box',
  orgID: 'org1',
  version: 'env-7',
} as SpriteRecord
const org = { id: 'org1', slug: 'acme' } as OrgRecord

/** A plain Duplex over a socket, as the agent's streams are (no net.Socket methods). */
function plain(sock: Socket): Duplex {
  const d = new Duplex({
    read: () => sock.resume(),
    write: (chunk, _enc, cb) => sock.write(chunk, cb),
    final: (cb) => sock.end(cb),
    destroy: (err, cb) => {
      sock.destroy()
      cb(err)
    },
  })
  sock.on('data', (b) => d.push(b) || sock.pause())
  sock.on('end', () => d.push(null))
  return d
}

describe('in-sprite API over a plain Duplex', () => {
  let dir: string
  let sockPath: string
  let api: InSpriteAPI
  const requests: string[] = []
  const server = createServer((sock) =>
    api.serve(sprite, plain(sock), { uid: 1001, gid: 1001, pid: 7 }),
  )

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'insprite-'))
    sockPath = join(dir, 'api.sock')
    api = createInSpriteAPI({
      log: noopLogger,
      store: {
        getSpriteByID: async (id) => (id === sprite.id ? sprite : null),
        getOrg: async (id) => (id === org.id ? org : null),
      },
      config: { baseDomain: 'sprites.test', spriteURL: { scheme: 'https', port: null } },
    })
    api.onRequest((id) => requests.push(id))
    api.route('GET', '/v1/peer', ({ res, peer }) => sendJSON(res, 200, peer))
    api.route('POST', '/v1/services/:name/start', ({ res, params }) => {
      const s = startNDJSON(res)
      s.write({ type: 'started', name: params.name })
      s.write({ type: 'complete' })
      s.end()
    })
    server.listen(sockPath)
    await once(server, 'listening')
  })
  after(() => {
    api.close()
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const curl = async (path: string, ...args: string[]) =>
    (await run('curl', ['-sS', '--unix-socket', sockPath, ...args, `http://sprite${path}`])).stdout

  test('GET /v1/info, the peer, activity hooks', async () => {
    assert.deepEqual(JSON.parse(await curl('/v1/info')), {
      name: 'box',
      id: sprite.id,
      org: 'acme',
      url: 'https://box-org1.sprites.test',
      version: 'env-7',
    })
    assert.deepEqual(JSON.parse(await curl('/v1/peer')), { uid: 1001, gid: 1001, pid: 7 })
    assert.deepEqual(requests.slice(0, 2), [sprite.id, sprite.id])
  })

  test('unknown route → JSON 404, wrong method → 405', async () => {
    const body = JSON.parse(await curl('/v1/nope'))
    assert.equal(body.error, 'not_found')
    const out = await curl('/v1/info', '-X', 'DELETE', '-w', '\n%{http_code}')
    assert.match(out, /\n405$/)
  })

  test('sprite-env: info, version, curl, NDJSON streams, errors', async () => {
    const env = { ...process.env, SPRITE_API_SOCK: sockPath }
    const se = (...args: string[]) => run(SPRITE_ENV, args, { env })
    assert.equal(JSON.parse((await se('info')).stdout).org, 'acme')
    assert.equal((await se('version')).stdout, 'env-7\n')
    assert.equal(JSON.parse((await se('curl', '/v1/peer')).stdout).pid, 7)
    const lines = (await se('services', 'start', 'web')).stdout.trim().split('\n')
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).type),
      ['started', 'complete'],
    )
    await assert.rejects(se('tasks', 'list'), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1)
      assert.match(err.stderr, /^sprite-env: no such endpoint: GET \/v1\/tasks\n$/)
      return true
    })
    assert.match((await se('services', '--help')).stdout, /Usage: sprite-env services/)
    await assert.rejects(se('services', 'create', 'x'), { code: 2 })
  })
})

test('one sprite may hold at most maxConnectionsPerSprite connections; others are not affected', async () => {
  const warnings: unknown[] = []
  const log = { ...noopLogger, warn: (ctx: unknown) => void warnings.push(ctx) }
  const api = createInSpriteAPI({
    log: log as typeof noopLogger,
    store: { getSpriteByID: async () => null, getOrg: async () => null },
    config: { baseDomain: 'sprites.localhost', spriteURL: null } as never,
    maxConnectionsPerSprite: 2,
  })
  const other = { id: 'sprite-99999999-2222-4333-8444-555555555555' }
  const pairs = Array.from(
    { length: 4 },
    () =>
      new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb()
        },
      }),
  )
  for (const d of pairs.slice(0, 3)) api.serve(sprite, d)
  assert.equal(api.connections, 2)
  assert.equal(pairs[2]?.destroyed, true, 'the third connection of one sprite is closed')
  // Refused in a loop, it is logged once (a minute), not once per connection.
  for (let i = 0; i < 100; i++)
    api.serve(
      sprite,
      new Duplex({
        read() {},
        write(_c, _e, cb) {
          cb()
        },
      }),
    )
  assert.equal(warnings.length, 1)
  api.serve(other, pairs[3] as Duplex)
  assert.equal(api.connections, 3, 'another sprite still connects')
  pairs[0]?.destroy()
  await new Promise((r) => setImmediate(r))
  const again = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb()
    },
  })
  api.serve(sprite, again)
  assert.equal(again.destroyed, false, 'a closed connection frees its place')
  api.close()
})
