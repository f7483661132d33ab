// Bad input against a live spritesd with real sprites: every refusal is the documented status
// with a JSON `{error, message}` body and `Sprite-Version`, and nothing leaks afterwards.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SPRITE_NAME_RULE } from '@sprites/protocol'
import {
  type APIResponse,
  api,
  countsOf,
  createForeignToken,
  createSprite,
  deleteAll,
  deleteSprite,
  execWS,
  instanceResources,
  NO_LEFTOVERS,
  postExec,
  type RawHTTPResponse,
  type SpriteInfo,
  sh,
  spriteLeftovers,
  tryUpgrade,
} from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const T = { timeout: 60_000 }

/** Asserts an error response: status, JSON `{error, message}` and `Sprite-Version`. */
function assertError(
  r: APIResponse,
  status: number,
  code?: string,
): { error: string; message: string } {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`)
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/)
  assert.ok(r.headers.get('sprite-version'), 'Sprite-Version header on an error')
  const body = r.json as { error?: unknown; message?: unknown }
  assert.equal(typeof body?.error, 'string', `error field in ${r.text}`)
  assert.equal(typeof body?.message, 'string', `message field in ${r.text}`)
  if (code) assert.equal(body.error, code)
  return body as { error: string; message: string }
}

/** The same for a refused WebSocket upgrade (a plain HTTP response before any 101). */
function assertUpgradeError(r: RawHTTPResponse, status: number, code?: string) {
  assert.equal(
    r.status,
    status,
    `expected ${status} before the upgrade, got ${r.status}: ${r.body}`,
  )
  assert.ok(r.headers['sprite-version'], 'Sprite-Version header on a refused upgrade')
  assert.match(String(r.headers['content-type'] ?? ''), /^application\/json/)
  const body = JSON.parse(r.body) as { error: string; message: string }
  assert.equal(typeof body.message, 'string')
  if (code) assert.equal(body.error, code)
  return body
}

describe('bad input', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let baseline: Record<string, number>
  const names: string[] = []
  const ids: string[] = []
  let sprite: SpriteInfo

  before(async () => {
    srv = await startSpritesd()
    baseline = countsOf(await instanceResources())
    sprite = await createSprite(srv, uniqueName('bad'))
    names.push(sprite.name)
    ids.push(sprite.id)
    await sh(srv, sprite.name, 'true')
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  test('invalid sprite names are refused with 400 and the name rule', T, async () => {
    const bad: unknown[] = ['UPPER', 'a_b', 'a'.repeat(58), '-x', 'x-', '', 'a.b', 42, null, ['a']]
    for (const name of bad) {
      const r = await api(srv, 'POST', '/v1/sprites', { body: { name } })
      const body = assertError(r, 400, 'invalid_argument')
      assert.ok(body.message.includes(SPRITE_NAME_RULE), `rule in: ${body.message}`)
    }
    const missing = await api(srv, 'POST', '/v1/sprites', { body: { config: {} } })
    assertError(missing, 400, 'invalid_argument')
    const longest = `l${'0'.repeat(50)}-${uniqueName('x').slice(2)}`.slice(0, 57)
    const ok = await api(srv, 'POST', '/v1/sprites', { body: { name: longest } })
    if (ok.status === 201) {
      names.push(longest)
      ids.push((ok.json as SpriteInfo).id)
    }
    assert.equal(ok.status, 201, `a 57-character name is valid: ${ok.text}`)
    const dup = await api(srv, 'POST', '/v1/sprites', { body: { name: longest } })
    assertError(dup, 409, 'sprite_already_exists')
    await deleteSprite(srv, longest)
  })

  test('a body over 1 MiB gets 413; malformed JSON and non-objects get 400', T, async () => {
    const big = JSON.stringify({ name: uniqueName('big'), pad: 'x'.repeat(1024 * 1024 + 10) })
    const r = await api(srv, 'POST', '/v1/sprites', {
      rawBody: big,
      headers: { 'content-type': 'application/json' },
    })
    assertError(r, 413)
    for (const raw of ['{"name": "x"', '{name: "x"}', 'not json', '{"name":"x"}garbage']) {
      const m = await api(srv, 'POST', '/v1/sprites', {
        rawBody: raw,
        headers: { 'content-type': 'application/json' },
      })
      assertError(m, 400, 'invalid_argument')
    }
    for (const raw of ['[]', '"a-name"', '17', 'null']) {
      const m = await api(srv, 'POST', '/v1/sprites', { rawBody: raw })
      assertError(m, 400, 'invalid_argument')
    }
    const put = await api(srv, 'PUT', `/v1/sprites/${sprite.name}`, { rawBody: '{"labels":' })
    assertError(put, 400, 'invalid_argument')
    // The server still answers normally afterwards.
    assert.equal((await api(srv, 'GET', `/v1/sprites/${sprite.name}`)).status, 200)
  })

  test('a missing or unknown token gets 401, on REST and before a WS upgrade', T, async () => {
    for (const token of [null, 'personal/xxxxx/tok0/secret', 'garbage']) {
      assertError(await api(srv, 'GET', '/v1/sprites', { token }), 401, 'unauthorized')
      assertError(await api(srv, 'GET', `/v1/sprites/${sprite.name}`, { token }), 401)
      assertError(await api(srv, 'DELETE', `/v1/sprites/${sprite.name}`, { token }), 401)
      const up = await tryUpgrade(srv, `/v1/sprites/${sprite.name}/exec?cmd=true`, { token })
      assertUpgradeError(up, 401, 'unauthorized')
    }
    const basic = await api(srv, 'GET', '/v1/sprites', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    })
    assertError(basic, 401)
    assert.equal((await api(srv, 'GET', `/v1/sprites/${sprite.name}`)).status, 200)
  })

  test("another org's token gets 404 for this org's sprite", T, async () => {
    const foreign = { baseURL: srv.baseURL, token: await createForeignToken() }
    assert.equal((await api(foreign, 'GET', '/v1/organization')).status, 200)
    const path = `/v1/sprites/${sprite.name}`
    assertError(await api(foreign, 'GET', path), 404, 'sprite_not_found')
    assertError(await api(foreign, 'DELETE', path), 404, 'sprite_not_found')
    assertError(await api(foreign, 'PUT', path, { body: { labels: ['x'] } }), 404)
    assertError(await api(foreign, 'GET', `${path}/exec`), 404)
    assertError(await api(foreign, 'POST', `${path}/exec?cmd=true`), 404)
    assertUpgradeError(await tryUpgrade(foreign, `${path}/exec?cmd=true`), 404, 'sprite_not_found')
    const list = await api(foreign, 'GET', '/v1/sprites')
    assert.equal(list.status, 200)
    const listed = (list.json as { sprites: { name: string }[] }).sprites.map((s) => s.name)
    assert.ok(!listed.includes(sprite.name), 'the foreign org lists our sprite')
    // The owner still has it, untouched.
    const mine = await api(srv, 'GET', path)
    assert.equal(mine.status, 200)
    assert.deepEqual((mine.json as { labels: string[] }).labels, [])
  })

  test('spawn failures: 127 not found, 126 not executable, 1 for a missing dir', T, async () => {
    const missing = await execWS(srv, sprite.name, ['no-such-program-xyz'])
    assert.equal(missing.code, 127)
    assert.match(missing.stderr, /no-such-program-xyz/)
    const missingAbs = await execWS(srv, sprite.name, ['/nope/prog'])
    assert.equal(missingAbs.code, 127)
    assert.notEqual(missingAbs.stderr, '')
    await sh(
      srv,
      sprite.name,
      'printf "#!/bin/sh\\necho hi\\n" > /tmp/noexec; chmod 644 /tmp/noexec',
    )
    const noexec = await execWS(srv, sprite.name, ['/tmp/noexec'])
    assert.equal(noexec.code, 126)
    assert.match(noexec.stderr, /noexec/)
    const dir = await execWS(srv, sprite.name, ['pwd'], { dir: '/nope' })
    assert.equal(dir.code, 1)
    assert.match(dir.stderr, /\/nope/)
    assert.equal(dir.stdout, '')
    const http = await postExec(srv, sprite.name, 'cmd=no-such-program-xyz')
    assert.equal(http.status, 200)
    assert.equal(http.exitCode, 127)
  })

  test('bad exec parameters get 400 before the upgrade', T, async () => {
    const base = `/v1/sprites/${sprite.name}/exec?cmd=true`
    for (const q of [
      'rows=abc',
      'cols=-3',
      'rows=1.5',
      'env=NOEQ',
      'env==value',
      'max_run_after_disconnect=forever',
    ]) {
      const up = await tryUpgrade(srv, `${base}&${q}`)
      assertUpgradeError(up, 400, 'invalid_argument')
      const http = await api(srv, 'POST', `${base}&${q}`)
      if (!q.startsWith('rows') && !q.startsWith('cols') && !q.startsWith('max_run')) {
        assertError(http, 400, 'invalid_argument')
      }
    }
    const unknownSprite = await tryUpgrade(srv, '/v1/sprites/no-such-sprite-zz/exec?cmd=true')
    assertUpgradeError(unknownSprite, 404, 'sprite_not_found')
  })

  test('attach to an unknown session: 404 "session not found: <id>"', T, async () => {
    for (const path of ['/exec/424242', '/exec?id=424242', '/exec?session_id=424242']) {
      const up = await tryUpgrade(srv, `/v1/sprites/${sprite.name}${path}`)
      const body = assertUpgradeError(up, 404, 'session_not_found')
      assert.equal(body.message, 'session not found: 424242')
    }
    const junk = await tryUpgrade(srv, `/v1/sprites/${sprite.name}/exec/abc`)
    assertUpgradeError(junk, 404)
    const plain = await api(srv, 'GET', `/v1/sprites/${sprite.name}/exec/424242`)
    assertError(plain, 404, 'session_not_found')
  })

  test('kill: unknown session 404, ended session 410', T, async () => {
    const unknown = await api(srv, 'POST', `/v1/sprites/${sprite.name}/exec/424243/kill`)
    assertError(unknown, 404, 'session_not_found')
    const done = await execWS(srv, sprite.name, ['true'])
    assert.equal(done.code, 0)
    assert.ok(done.sessionID, 'session_info carried a session id')
    const ended = await api(srv, 'POST', `/v1/sprites/${sprite.name}/exec/${done.sessionID}/kill`)
    assertError(ended, 410, 'session_exited')
    const badSignal = await api(
      srv,
      'POST',
      `/v1/sprites/${sprite.name}/exec/${done.sessionID}/kill?signal=NOPE`,
    )
    assertError(badSignal, 400, 'invalid_argument')
  })

  test('POST exec refuses WebSocket-only parameters with 400', T, async () => {
    for (const q of ['tty=true', 'detachable=true', 'id=1', 'cc=true']) {
      const r = await api(srv, 'POST', `/v1/sprites/${sprite.name}/exec?cmd=true&${q}`)
      assertError(r, 400, 'invalid_argument')
    }
  })

  test('unknown routes under /v1 get a JSON 404', T, async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/v1'],
      ['POST', '/v1/sprite'],
      ['GET', `/v1/sprites/${sprite.name}/nope`],
      ['GET', `/v1/sprites/${sprite.name}/exec/1/nope`],
      ['GET', '/v2/sprites'],
    ] as const) {
      assertError(await api(srv, method, path), 404)
    }
    assertError(await api(srv, 'GET', '/v1/sprites/no-such-sprite-zz'), 404, 'sprite_not_found')
    const badName = await api(srv, 'GET', '/v1/sprites/Bad_Name')
    assertError(badName, badName.status === 400 ? 400 : 404)
  })

  test('after deleting every sprite, no host resource of theirs remains', T, async () => {
    for (const name of names) await deleteSprite(srv, name)
    names.length = 0
    for (const id of ids) assert.deepEqual(spriteLeftovers(id), NO_LEFTOVERS)
    assert.deepEqual(countsOf(await instanceResources()), baseline)
  })
})
