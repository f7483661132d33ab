// The in-sprite API (sprites-api.md §12.3, §12.4) from inside a real sprite: curl over
// /.sprite/api.sock, sprite-env, a JSON 404; and the listening ports of the sprite.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { listListeningPorts } from '@sprites/runtime'
import {
  api,
  type Conn,
  createSprite,
  deleteAll,
  sandboxPids,
  sh,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const CURL = 'curl -sS --unix-socket /.sprite/api.sock'

/** Host pid of the sprite's agent: the process that is pid 1 inside. */
function agentPid(spriteID: string): number {
  for (const pid of sandboxPids(spriteID)) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    if (/^NSpid:.*\s1$/m.test(status)) return pid
  }
  throw new Error('no agent process found')
}

describe('in-sprite API', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []
  let name: string
  let expected: Record<string, string>

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    name = uniqueName('insp')
    names.push(name)
    await createSprite(conn, name)
    const r = await api(conn, 'GET', `/v1/sprites/${name}`)
    const info = r.json as Record<string, string>
    expected = {
      name,
      id: info.id!,
      org: info.organization!,
      url: info.url!,
      version: info.version!,
    }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('curl and sprite-env info return the sprite; version; JSON 404', async () => {
    assert.deepEqual(JSON.parse(await sh(conn, name, `${CURL} http://sprite/v1/info`)), expected)
    assert.deepEqual(JSON.parse(await sh(conn, name, 'sprite-env info')), expected)
    assert.equal((await sh(conn, name, 'sprite-env version')).trim(), expected.version)
    const out = await sh(conn, name, `${CURL} -w '\\n%{http_code}' http://sprite/v1/no-such-route`)
    const [body, code] = out.split('\n')
    assert.equal(code, '404')
    assert.equal(JSON.parse(body!).error, 'not_found')
    const ls = await sh(conn, name, 'stat -c %a /.sprite/api.sock')
    assert.equal(ls.trim(), '666')
  })

  test('listening ports of the sprite, with the in-sprite pid', async () => {
    const session = await startDetached(conn, name, [
      'python3',
      '-m',
      'http.server',
      '8080',
      '--bind',
      '127.0.0.1',
    ])
    try {
      const spriteID = expected.id!
      const pid = agentPid(spriteID)
      let port: { port: number; address: string; pid: number } | undefined
      await waitUntil(
        async () => {
          port = (await listListeningPorts(pid)).find((p) => p.port === 8080)
          return port !== undefined
        },
        15_000,
        'port 8080 listening',
      )
      assert.equal(port!.address, '127.0.0.1')
      assert.ok(port!.pid > 1)
      const fromInside = await sh(
        conn,
        name,
        "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/",
      )
      assert.equal(fromInside.trim(), '200')
    } finally {
      session.close()
    }
  })
})
