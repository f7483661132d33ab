import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { test } from 'node:test'
import { startTestServer } from './harness.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>

test('create 201 returns SpriteInfo; duplicate 409', async (t) => {
  const h = await startTestServer(t)
  const res = await h.request('POST', '/v1/sprites', {
    body: {
      name: 'box',
      config: { ramMB: 1024 },
      environment: { A: 'b' },
      labels: ['x'],
      unknown: 1,
    },
  })
  assert.equal(res.status, 201)
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  assert.equal(res.headers.get('sprite-version'), '0.0.1-rc46')
  const info = (await res.json()) as Json
  assert.match(info.id, /^sprite-[0-9a-f-]{36}$/)
  assert.equal(info.status, 'cold')
  assert.equal(info.organization, 'personal')
  assert.deepEqual(info.config, { ram_mb: 1024, cpus: 2, region: 'local', storage_gb: 10 })
  assert.equal(info.url, `http://box-${h.org.id}.sprites.localhost`)
  assert.deepEqual(h.host.calls, [{ op: 'provision', spriteID: info.id, name: 'box' }])
  assert.equal((await h.store.getSprite(h.org.id, 'box'))?.opState, 'ready')
  const dup = await h.request('POST', '/v1/sprites', { body: { name: 'box' } })
  assert.equal(dup.status, 409)
  assert.equal(((await dup.json()) as Json).error, 'sprite_already_exists')
})

test('bad names 400 with the rule; malformed JSON 400; oversized 413', async (t) => {
  const h = await startTestServer(t, { argv: ['--max-body-bytes', '1024'] })
  for (const name of ['Upper', '-lead', 'trail-', 'a'.repeat(58), '', 'under_score']) {
    const res = await h.request('POST', '/v1/sprites', { body: { name } })
    assert.equal(res.status, 400, name)
    const body = (await res.json()) as Json
    assert.equal(body.error, 'invalid_argument')
    assert.match(body.message, /1-57 characters of lowercase letters, digits and hyphens/)
  }
  const bad = await h.request('POST', '/v1/sprites', { body: '{"name":' })
  assert.equal(bad.status, 400)
  assert.match(((await bad.json()) as Json).message, /not valid JSON/)
  const big = await h.request('POST', '/v1/sprites', {
    body: { name: 'big', environment: { X: 'y'.repeat(4096) } },
  })
  assert.equal(big.status, 413)
  assert.equal(big.headers.get('sprite-version'), '0.0.1-rc46')
  assert.equal(((await big.json()) as Json).error, 'payload_too_large')
  const noType = await h.request('POST', '/v1/sprites', { body: '{"name":"plain"}' })
  assert.equal(noType.status, 201)
})

test('missing and unknown tokens get 401 JSON with Sprite-Version', async (t) => {
  const h = await startTestServer(t)
  for (const token of [null, 'personal/abcde/tok/nope', 'garbage']) {
    const res = await h.request('GET', '/v1/sprites', { token })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('sprite-version'), '0.0.1-rc46')
    assert.equal(((await res.json()) as Json).error, 'unauthorized')
  }
})

test("another org's token sees 404 and an empty list", async (t) => {
  const h = await startTestServer(t)
  assert.equal((await h.request('POST', '/v1/sprites', { body: { name: 'mine' } })).status, 201)
  const other = await h.store.createOrg('other')
  const { token } = await h.store.createToken(other.id, 'other')
  const get = await h.request('GET', '/v1/sprites/mine', { token })
  assert.equal(get.status, 404)
  assert.equal(((await get.json()) as Json).error, 'sprite_not_found')
  assert.equal((await h.request('DELETE', '/v1/sprites/mine', { token })).status, 404)
  const list = (await (await h.request('GET', '/v1/sprites', { token })).json()) as Json
  assert.deepEqual(list.sprites, [])
  assert.equal(list.name, 'other')
  assert.equal(
    (await h.request('POST', '/v1/sprites', { token, body: { name: 'mine' } })).status,
    201,
  )
})

test('pagination with continuation tokens across 120 sprites', async (t) => {
  const h = await startTestServer(t)
  const names = Array.from({ length: 120 }, (_, i) => `s${String(i).padStart(3, '0')}`)
  for (const name of [...names].reverse()) {
    assert.equal((await h.request('POST', '/v1/sprites', { body: { name } })).status, 201)
  }
  const seen: string[] = []
  let token: string | null = null
  let pages = 0
  do {
    const q: string = token ? `&continuation_token=${encodeURIComponent(token)}` : ''
    const page = (await (await h.request('GET', `/v1/sprites?max_results=50${q}`)).json()) as Json
    seen.push(...page.sprites.map((s: Json) => s.name))
    assert.equal(page.cold, 120)
    assert.deepEqual(page.org, {
      name: 'personal',
      running: 0,
      warm: 0,
      cold: 120,
      running_limit: 10,
      warm_limit: 50,
    })
    token = page.has_more ? page.next_continuation_token : null
    if (!page.has_more) assert.equal(page.next_continuation_token, null)
    pages++
  } while (token)
  assert.equal(pages, 3)
  assert.deepEqual(seen, names)
  const sizes = async (q: string) =>
    ((await (await h.request('GET', `/v1/sprites${q}`)).json()) as Json).sprites.length
  assert.equal(await sizes(''), 50)
  assert.equal(await sizes('?max_results=500'), 100)
  assert.equal(await sizes('?max_results=0'), 50)
  assert.equal(await sizes('?max_results=7'), 7)
  assert.equal(await sizes('?prefix=s11'), 10)
})

test('update labels and url_settings; 400 without fields', async (t) => {
  const h = await startTestServer(t)
  await h.request('POST', '/v1/sprites', { body: { name: 'u', labels: ['a'] } })
  const put = await h.request('PUT', '/v1/sprites/u', {
    body: { labels: ['b', 'c'], url_settings: { auth: 'public', privateAccess: 'org_users' } },
  })
  assert.equal(put.status, 200)
  const info = (await put.json()) as Json
  assert.deepEqual(info.labels, ['b', 'c'])
  assert.deepEqual(info.url_settings, { auth: 'public', private_access: 'org_users' })
  const cleared = (await (
    await h.request('PUT', '/v1/sprites/u', { body: { clear_labels: true } })
  ).json()) as Json
  assert.deepEqual(cleared.labels, [])
  assert.equal((await h.request('PUT', '/v1/sprites/u', { body: {} })).status, 400)
  assert.equal(
    (await h.request('PUT', '/v1/sprites/u', { body: { url_settings: { auth: 'x' } } })).status,
    400,
  )
  assert.equal((await h.request('PUT', '/v1/sprites/nope', { body: { labels: [] } })).status, 404)
})

test('delete 204 then 404; the host destroyed it', async (t) => {
  const h = await startTestServer(t)
  const info = (await (
    await h.request('POST', '/v1/sprites', { body: { name: 'd' } })
  ).json()) as Json
  const del = await h.request('DELETE', '/v1/sprites/d')
  assert.equal(del.status, 204)
  assert.equal(del.headers.get('sprite-version'), '0.0.1-rc46')
  assert.equal((await h.request('GET', '/v1/sprites/d')).status, 404)
  assert.equal((await h.request('DELETE', '/v1/sprites/d')).status, 404)
  assert.deepEqual(h.host.calls.at(-1), { op: 'destroy', spriteID: info.id, name: 'd' })
})

test('upgrade (M7) moves the sprite to the installed image version', async (t) => {
  const h = await startTestServer(t)
  h.host.setImageVersion('img-1')
  await h.request('POST', '/v1/sprites', { body: { name: 'u' } })
  const version = async () =>
    ((await (await h.request('GET', '/v1/sprites/u')).json()) as Json).version
  assert.equal(await version(), 'img-1')
  h.host.setImageVersion('img-2')
  const r = await h.request('POST', '/v1/sprites/u/upgrade', { body: { version: 'whatever' } })
  assert.equal(r.status, 200)
  assert.deepEqual(await r.json(), { name: 'u', status: 'upgraded' })
  assert.equal(await version(), 'img-2')
  assert.equal((await h.request('POST', '/v1/sprites/nope/upgrade')).status, 404)
})

test('a failed provision leaves no row and destroys what was made', async (t) => {
  const h = await startTestServer(t)
  h.host.failNext('provision', new Error('disk full'))
  const res = await h.request('POST', '/v1/sprites', { body: { name: 'broken' } })
  assert.equal(res.status, 500)
  assert.equal(((await res.json()) as Json).error, 'internal')
  assert.equal(await h.store.getSprite(h.org.id, 'broken'), null)
  assert.deepEqual(
    h.host.calls.map((c) => c.op),
    ['provision', 'destroy'],
  )
  h.host.failNext('provision', null)
  assert.equal((await h.request('POST', '/v1/sprites', { body: { name: 'broken' } })).status, 201)
})

test('get, check without waking, org, and unknown routes', async (t) => {
  const h = await startTestServer(t)
  await h.request('POST', '/v1/sprites', { body: { name: 'g' } })
  const got = (await (await h.request('GET', '/v1/sprites/g/')).json()) as Json
  assert.equal(got.name, 'g')
  assert.equal(got.created_at.endsWith('Z'), true)
  const check = (await (await h.request('GET', '/v1/sprites/g/check')).json()) as Json
  assert.equal(check.status, 'hibernated')
  assert.equal(check.sprite_id, got.id)
  h.host.setStatus(got.id, 'running')
  const org = (await (await h.request('GET', '/v1/organization')).json()) as Json
  assert.deepEqual(org.organization.active_sprites, ['g'])
  const unknown = await h.request('GET', '/v1/nothing-here')
  assert.equal(unknown.status, 404)
  assert.equal(unknown.headers.get('sprite-version'), '0.0.1-rc46')
  assert.equal(((await unknown.json()) as Json).error, 'not_found')
  const wrong = await h.request('PATCH', '/v1/sprites/g')
  assert.equal(wrong.status, 405)
  assert.match(wrong.headers.get('allow') ?? '', /GET/)
})

test('control: 404 for plain and upgrade requests', async (t) => {
  const h = await startTestServer(t)
  await h.request('POST', '/v1/sprites', { body: { name: 'c' } })
  const plain = await h.request('GET', '/v1/sprites/c/control')
  assert.equal(plain.status, 404)
  assert.deepEqual(await plain.json(), {
    error: 'not_found',
    message: 'control connections are not supported',
  })
  const up = await rawUpgrade(h.url, '/v1/sprites/c/control', h.token)
  assert.equal(up.status, 404)
  assert.equal(up.headers['sprite-version'], '0.0.1-rc46')
  assert.deepEqual(JSON.parse(up.body), {
    error: 'not_found',
    message: 'control connections are not supported',
  })
  const noAuth = await rawUpgrade(h.url, '/v1/sprites/c/control', null)
  assert.equal(noAuth.status, 401)
  assert.equal(h.host.calls.filter((c) => c.op !== 'provision').length, 0)
})

/** Sends a WebSocket upgrade request and collects the (non-101) HTTP answer. */
function rawUpgrade(base: string, path: string, token: string | null) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const headers: Record<string, string> = {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
      }
      if (token) headers.Authorization = `Bearer ${token}`
      const req = httpRequest(`${base}${path}`, { headers })
      req.on('upgrade', () => reject(new Error('unexpected 101')))
      req.on('response', (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}
