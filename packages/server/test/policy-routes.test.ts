import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SpriteRecord } from '@sprites/store'
import { policyModule } from '../src/policy/policy-routes.ts'
import { startTestServer } from './harness.ts'

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const applied: SpriteRecord[] = []
  const files: string[] = []
  const h = await startTestServer(t, {
    modules: [
      policyModule({
        egress: { apply: async (s) => void applied.push(s) },
        files: { changed: async (s) => void files.push(s.id) },
      }),
    ],
  })
  const created = await h.request('POST', '/v1/sprites', { body: { name: 'pol' } })
  assert.equal(created.status, 201)
  h.host.calls.length = 0
  return { h, applied, files }
}

async function jsonOf(res: Response): Promise<unknown> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  return res.json()
}

test('network: default {"rules":[]}; POST and PUT replace, 204 with no body; GET as stored', async (t) => {
  const { h, applied, files } = await setup(t)
  const path = '/v1/sprites/pol/policy/network'
  const get = await h.request('GET', path)
  assert.equal(get.status, 200)
  assert.deepEqual(await jsonOf(get), { rules: [] })
  const rules = [
    { domain: 'API.example.com', action: 'allow' },
    { domain: '*.npmjs.org', action: 'deny' },
    { include: 'defaults' },
  ]
  const post = await h.request('POST', path, { body: { rules } })
  assert.equal(post.status, 204)
  assert.equal(await post.text(), '')
  assert.ok(post.headers.get('sprite-version'))
  assert.deepEqual(await jsonOf(await h.request('GET', path)), { rules })
  assert.equal(applied.length, 1)
  assert.deepEqual(applied[0]?.policies?.network, { rules }, 'the enforcer gets the new record')
  assert.deepEqual(files, [applied[0]?.id])
  const put = await h.request('PUT', `${path}/`, { body: { rules: [] } })
  assert.equal(put.status, 204)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), { rules: [] })
  assert.equal(applied.length, 2)
  assert.deepEqual(h.host.calls, [], 'policy calls never touch the sandbox')
})

test('network: invalid policies and bodies are 400 invalid_argument; nothing changes', async (t) => {
  const { h, applied } = await setup(t)
  const path = '/v1/sprites/pol/policy/network'
  await h.request('POST', path, { body: { rules: [{ domain: 'a.b', action: 'allow' }] } })
  const bad: unknown[] = [
    { rules: [{ domain: 'a.b' }] },
    { rules: [{ domain: 'a..b', action: 'allow' }] },
    { rules: [{ include: 'everything' }] },
    { rules: 'a.b' },
    {},
    [],
    '{"rules": [',
    'null',
  ]
  for (const body of bad) {
    const res = await h.request('POST', path, { body })
    assert.equal(res.status, 400, JSON.stringify(body))
    const err = (await jsonOf(res)) as { error: string; message: string }
    assert.equal(err.error, 'invalid_argument')
    assert.match(err.message, /invalid policy|not valid JSON/, err.message)
  }
  const named = await h.request('POST', path, { body: { rules: [{ domain: 'x' }] } })
  assert.match(((await named.json()) as { message: string }).message, /^invalid policy: rule 0/)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {
    rules: [{ domain: 'a.b', action: 'allow' }],
  })
  assert.equal(applied.length, 1)
  assert.equal((await h.request('DELETE', path)).status, 405)
})

test('privileges: {} when unset; POST replaces; DELETE reverts; bad input 400', async (t) => {
  const { h } = await setup(t)
  const path = '/v1/sprites/pol/policy/privileges'
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {})
  const policy = { profile: 'minimal', devices: ['/dev/fuse'], noNewPrivileges: true }
  const post = await h.request('POST', path, { body: policy })
  assert.equal(post.status, 204)
  assert.equal(await post.text(), '')
  assert.deepEqual(await jsonOf(await h.request('GET', path)), policy)
  const replaced = await h.request('POST', path, { body: { noNewPrivileges: false } })
  assert.equal(replaced.status, 204)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), { noNewPrivileges: false })
  for (const body of [
    { profile: 'root' },
    { devices: 'x' },
    { extra: 1, profile: 7 },
    '[]',
    '{bad',
  ]) {
    const res = await h.request('POST', path, { body })
    assert.equal(res.status, 400, JSON.stringify(body))
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_argument')
  }
  const del = await h.request('DELETE', path)
  assert.equal(del.status, 204)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {})
})

test('resources: {} when unset; POST stores limit_mb; DELETE reverts; kinds are independent', async (t) => {
  const { h } = await setup(t)
  const path = '/v1/sprites/pol/policy/resources'
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {})
  await h.request('POST', '/v1/sprites/pol/policy/privileges', { body: { profile: 'standard' } })
  const post = await h.request('POST', path, {
    body: { memory: { limit_mb: 512, autoscale: true } },
  })
  assert.equal(post.status, 204)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {
    memory: { limit_mb: 512, autoscale: true },
  })
  for (const memory of [{ limit_mb: 10 }, { limit_mb: 2 ** 21 }, { limit_mb: 'x' }, 5]) {
    const res = await h.request('POST', path, { body: { memory } })
    assert.equal(res.status, 400, JSON.stringify(memory))
  }
  assert.equal((await h.request('DELETE', path)).status, 204)
  assert.deepEqual(await jsonOf(await h.request('GET', path)), {})
  assert.deepEqual(await jsonOf(await h.request('GET', '/v1/sprites/pol/policy/privileges')), {
    profile: 'standard',
  })
  const info = (await jsonOf(await h.request('GET', '/v1/sprites/pol'))) as { config: object }
  assert.equal((info.config as { ram_mb: number }).ram_mb, 2048, 'config is unchanged (D1)')
})

test('unknown sprite, another org and no token: 404, 404, 401 on every policy route', async (t) => {
  const { h, applied } = await setup(t)
  const other = await h.store.createOrg('other')
  const { token: foreign } = await h.store.createToken(other.id, 'x')
  const routes: [string, string, unknown?][] = [
    ['GET', 'network'],
    ['POST', 'network', { rules: [] }],
    ['PUT', 'network', { rules: [] }],
    ['GET', 'privileges'],
    ['POST', 'privileges', {}],
    ['DELETE', 'privileges'],
    ['GET', 'resources'],
    ['POST', 'resources', { memory: { limit_mb: 256 } }],
    ['DELETE', 'resources'],
  ]
  for (const [method, kind, body] of routes) {
    const missing = await h.request(method, `/v1/sprites/nope/policy/${kind}`, { body })
    assert.equal(missing.status, 404, `${method} ${kind}`)
    assert.equal(((await missing.json()) as { error: string }).error, 'sprite_not_found')
    const cross = await h.request(method, `/v1/sprites/pol/policy/${kind}`, {
      body,
      token: foreign,
    })
    assert.equal(cross.status, 404, `foreign ${method} ${kind}`)
    const anon = await h.request(method, `/v1/sprites/pol/policy/${kind}`, { body, token: null })
    assert.equal(anon.status, 401, `anonymous ${method} ${kind}`)
  }
  assert.equal(applied.length, 0)
  assert.equal((await h.store.getSprite(h.org.id, 'pol'))?.policies, undefined)
})
