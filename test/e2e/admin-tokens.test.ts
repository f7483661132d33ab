// Operator administration (issue 2 §2, contract M11): `spritesd org|token …` on the live store,
// `POST /v1/organizations/{org}/tokens` with the admin secret, and revocation — API calls fail at
// once, sprite URLs and the browser logins a token made within the 5 s cache.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { api, type Conn, createSprite, deleteAll, execWS, waitUntil } from './api-helpers.ts'
import { type Spritesd, spritesdCommand, startSpritesd, uniqueName } from './harness.ts'
import { PY_SERVER, urlRequest } from './url-fixtures.ts'

const isRoot = process.getuid?.() === 0
const SECRET = 'e2e-operator-secret-0123456789'
const PORT = 8000

const spritesd = (args: string[]) => spritesdCommand(args)

const issue = (conn: Conn, org: string, headers: Record<string, string>, body: object = {}) =>
  fetch(`${conn.baseURL}/v1/organizations/${org}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

describe('orgs and tokens administration', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let acme: Conn
  const slug = `acme-${Math.random().toString(36).slice(2, 8)}`
  const names: string[] = []

  before(async () => {
    srv = await startSpritesd({ SPRITES_ADMIN_SECRET: SECRET })
  })
  after(async () => {
    await deleteAll(acme, names)
    await srv?.stop()
  })

  test('spritesd org create makes an org whose token sees only its own sprites', async () => {
    const made = spritesd(['org', 'create', slug])
    assert.equal(made.code, 0, made.err)
    acme = { baseURL: srv.baseURL, token: made.out.trim() }
    const org = await api(acme, 'GET', '/v1/organization')
    assert.equal((org.json as { organization: { slug: string } }).organization.slug, slug)
    const name = uniqueName('adm')
    names.push(name)
    await createSprite(acme, name)
    const admin = { baseURL: srv.baseURL, token: srv.token }
    assert.equal((await api(admin, 'GET', `/v1/sprites/${name}`)).status, 404)
    assert.match(spritesd(['org', 'list']).out, new RegExp(`^${slug}\\s+[a-z0-9]{5}\\s`, 'm'))
    const dup = spritesd(['org', 'create', slug])
    assert.equal(dup.code, 1)
    assert.match(dup.err, /already exists/)
  })

  test('M11 issues a token with the admin secret; anything else is refused', async () => {
    const ok = await issue(acme, slug, { authorization: `FlyV1 ${SECRET}` }, { description: 'ci' })
    assert.equal(ok.status, 201)
    const { token } = (await ok.json()) as { token: string }
    assert.match(token, new RegExp(`^${slug}/[a-z0-9]{5}/tok[0-9a-f]{16}/[A-Za-z0-9_-]{43}$`))
    const org = await api({ baseURL: srv.baseURL, token }, 'GET', '/v1/organization')
    assert.equal(org.status, 200)
    assert.equal(
      (await issue(acme, slug, { authorization: 'FlyV1 wrong-secret-000000000' })).status,
      401,
    )
    assert.equal((await issue(acme, slug, { authorization: `Bearer ${acme.token}` })).status, 401)
    assert.equal((await issue(acme, slug, {})).status, 401)
    assert.equal(
      (await issue(acme, 'no-such-org', { authorization: `FlyV1 ${SECRET}` })).status,
      404,
    )
    const bad = await issue(acme, slug, { authorization: `FlyV1 ${SECRET}` }, { description: 7 })
    assert.equal(bad.status, 400)
    const listed = spritesd(['token', 'list', '--org', slug])
    assert.equal(listed.code, 0, listed.err)
    assert.equal(listed.out.trim().split('\n').length, 3, listed.out)
    assert.doesNotMatch(listed.out, /\/[A-Za-z0-9_-]{43}/, 'token values are never listed')
  })

  test('a revoked token fails at once on the API and within 5 s on the URL and its login', async () => {
    const made = spritesd(['token', 'create', '--org', slug, '--description', 'to revoke'])
    assert.equal(made.code, 0, made.err)
    const doomed = { baseURL: srv.baseURL, token: made.out.trim() }
    const name = names[0] as string
    const w = await execWS(acme, name, ['sh', '-c', 'cat > /home/sprite/srv.py'], {
      stdin: PY_SERVER,
    })
    assert.equal(w.code, 0, w.stderr)
    const put = await api(acme, 'PUT', `/v1/sprites/${name}/services/web?duration=0`, {
      body: { cmd: 'python3', args: ['/home/sprite/srv.py', String(PORT)], http_port: PORT },
    })
    assert.equal(put.status, 200, put.text)
    const info = (await api(acme, 'GET', `/v1/sprites/${name}`)).json as { url: string }
    const host = new URL(info.url).host
    const login = await urlRequest(srv.baseURL, host, '/__sprite/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams({ token: doomed.token, next: '/' }).toString()),
    })
    assert.equal(login.status, 303)
    const cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? ''
    const bearer = { authorization: `Bearer ${doomed.token}` }
    await waitUntil(
      async () =>
        (await urlRequest(srv.baseURL, host, '/', { headers: { cookie } })).status === 200,
      15_000,
      'URL up',
    )
    assert.equal((await urlRequest(srv.baseURL, host, '/', { headers: bearer })).status, 200)

    const id = /tok[0-9a-f]{16}/.exec(doomed.token)?.[0] ?? ''
    const revoked = spritesd(['token', 'revoke', id])
    assert.equal(revoked.code, 0, revoked.err)
    assert.equal((await api(doomed, 'GET', '/v1/organization')).status, 401)
    await waitUntil(
      async () =>
        (await urlRequest(srv.baseURL, host, '/', { headers: { cookie } })).status === 401 &&
        (await urlRequest(srv.baseURL, host, '/', { headers: bearer })).status === 401,
      8_000,
      'URL closed to the revoked token and its login',
    )
    // The org's other token still opens it.
    const still = await urlRequest(srv.baseURL, host, '/', {
      headers: { authorization: `Bearer ${acme.token}` },
    })
    assert.equal(still.status, 200)
    const again = spritesd(['token', 'revoke', id])
    assert.equal(again.code, 1)
    assert.match(again.err, /no token/)
  })
})
