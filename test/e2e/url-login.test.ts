// The sprite URL over HTTPS (a self-signed certificate made here) and the browser login of
// `auth: sprite` URLs: the login page, the session cookie and a real login in headless Chromium.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  api,
  type Conn,
  createForeignToken,
  createSprite,
  deleteAll,
  execWS,
} from './api-helpers.ts'
import { chromiumPath, launchChromium } from './chromium.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'
import { PY_SERVER, urlRequest } from './url-fixtures.ts'

const isRoot = process.getuid?.() === 0
const PORT = 8000

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
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

/** A self-signed certificate for `*.sprites.localhost` (and 127.0.0.1) in `dir`. */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=sprites.localhost',
      '-addext',
      'subjectAltName=DNS:*.sprites.localhost,DNS:sprites.localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { cert, key }
}

describe('sprite URL over TLS, browser login', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let conn: Conn
  let dir: string
  let ca: Buffer
  let tlsPort: number
  let sprite: string
  let other: string
  let spriteURL: URL
  let otherURL: URL
  const names: string[] = []

  /** One https request to the TLS listener with the Host (and SNI) of `url`. */
  function viaTLS(
    url: URL,
    path: string,
    o: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: tlsPort,
          servername: url.hostname,
          ca,
          path,
          method: o.method ?? 'GET',
          headers: { ...o.headers, host: url.host },
          timeout: 30_000,
        },
        (res) => {
          let body = ''
          res.on('data', (d: Buffer) => {
            body += d.toString()
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        },
      )
      req.on('error', reject)
      req.on('timeout', () => req.destroy(new Error('request timed out')))
      req.end(o.body)
    })
  }

  async function serveApp(name: string): Promise<URL> {
    const info = (await createSprite(conn, name)) as unknown as { url: string }
    const w = await execWS(conn, name, ['sh', '-c', 'cat > /home/sprite/srv.py'], {
      stdin: PY_SERVER,
    })
    assert.equal(w.code, 0, w.stderr)
    const put = await api(conn, 'PUT', `/v1/sprites/${name}/services/web?duration=0`, {
      body: { cmd: 'python3', args: ['/home/sprite/srv.py', String(PORT)], http_port: PORT },
    })
    assert.equal(put.status, 200, put.text)
    return new URL(info.url)
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sprites-tls-'))
    const { cert, key } = makeCertificate(dir)
    ca = readFileSync(cert)
    tlsPort = await freePort()
    srv = await startSpritesd({
      SPRITES_TLS_CERT: cert,
      SPRITES_TLS_KEY: key,
      SPRITES_TLS_LISTEN: `127.0.0.1:${tlsPort}`,
    })
    conn = { baseURL: srv.baseURL, token: srv.token }
    sprite = uniqueName('login')
    other = uniqueName('login')
    names.push(sprite, other)
    spriteURL = await serveApp(sprite)
    otherURL = await serveApp(other)
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('sprite URLs are https on the TLS port; the API answers over TLS too', async () => {
    assert.equal(spriteURL.protocol, 'https:')
    assert.equal(Number(spriteURL.port), tlsPort)
    const org = await viaTLS(new URL(`https://sprites.localhost:${tlsPort}`), '/v1/organization', {
      headers: { authorization: `Bearer ${conn.token}` },
    })
    assert.equal(org.status, 200, org.body)
  })

  test('https with the token reaches the app with X-Forwarded-Proto https', async () => {
    const r = await viaTLS(spriteURL, '/tls?x=1', {
      headers: { authorization: `Bearer ${conn.token}` },
    })
    assert.equal(r.status, 200, r.body)
    const seen = JSON.parse(r.body) as { path: string; headers: Record<string, string> }
    assert.equal(seen.path, '/tls?x=1')
    assert.equal(seen.headers['x-forwarded-proto'], 'https')
    assert.equal(seen.headers.authorization, undefined)
  })

  test('browsers get a login page; API clients keep the 401 with the Basic challenge', async () => {
    const page = await viaTLS(spriteURL, '/some/page', { headers: { accept: 'text/html' } })
    assert.equal(page.status, 401)
    assert.match(String(page.headers['content-type']), /text\/html/)
    assert.equal(page.headers['www-authenticate'], undefined)
    assert.match(page.body, /<form id="sprite-login" method="post" action="\/__sprite\/login">/)
    assert.match(page.body, /name="next" value="\/some\/page"/)
    const json = await viaTLS(spriteURL, '/some/page')
    assert.equal(json.status, 401)
    assert.equal(json.headers['www-authenticate'], 'Basic realm="sprite"')
  })

  test('login sets a Secure HttpOnly SameSite=Lax host-only cookie that opens only this sprite', async () => {
    const form = (token: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, next: '/after?y=2' }).toString(),
    })
    const foreign = await viaTLS(spriteURL, '/__sprite/login', form(await createForeignToken()))
    assert.equal(foreign.status, 401)
    assert.equal(foreign.headers['set-cookie'], undefined)
    const ok = await viaTLS(spriteURL, '/__sprite/login', form(conn.token))
    assert.equal(ok.status, 303)
    assert.equal(ok.headers.location, '/after?y=2')
    const setCookie = ok.headers['set-cookie']?.[0] ?? ''
    assert.match(
      setCookie,
      /^sprite_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
    )
    assert.ok(!setCookie.includes(conn.token), 'the cookie must not hold the token')
    const cookie = `theme=dark; ${setCookie.split(';')[0]}`
    const r = await viaTLS(spriteURL, '/after?y=2', { headers: { cookie } })
    assert.equal(r.status, 200, r.body)
    assert.equal(
      (JSON.parse(r.body) as { headers: Record<string, string> }).headers.cookie,
      'theme=dark',
    )
    const elsewhere = await viaTLS(otherURL, '/', { headers: { cookie } })
    assert.equal(elsewhere.status, 401)
    const out = await viaTLS(spriteURL, '/__sprite/logout', { headers: { cookie } })
    assert.equal(out.status, 303)
    assert.equal((await viaTLS(spriteURL, '/', { headers: { cookie } })).status, 401)
  })

  test('login in headless Chromium: page, form, token, back on the app', {
    skip: chromiumPath() ? false : 'chromium is not installed (scripts/setup.sh installs it)',
  }, async () => {
    const httpHost = `${spriteURL.hostname}:${new URL(conn.baseURL).port}`
    const browser = await launchChromium([
      '--host-resolver-rules=MAP *.sprites.localhost 127.0.0.1',
    ])
    try {
      const page = await browser.newPage()
      await page.navigate(`http://${httpHost}/app?from=browser`)
      await page.waitFor("document.getElementById('sprite-login') !== null")
      await page.evaluate(
        `document.getElementById('token').value = ${JSON.stringify(conn.token)}; document.getElementById('sprite-login').submit(); true`,
      )
      const text = await page.waitFor<string>(
        'document.body && document.body.innerText.includes(\'"path"\') && document.body.innerText',
      )
      const seen = JSON.parse(text) as { path: string; headers: Record<string, string> }
      assert.equal(seen.path, '/app?from=browser')
      assert.equal(seen.headers.cookie, undefined)
      assert.equal(seen.headers.authorization, undefined)
      assert.equal(await page.evaluate('location.pathname + location.search'), '/app?from=browser')
      // The browser's cookie is host-only and HttpOnly: scripts cannot read it.
      assert.equal(await page.evaluate('document.cookie'), '')
    } finally {
      await browser.close()
    }
    // Without the browser's cookie the same URL is still closed.
    assert.equal((await urlRequest(conn.baseURL, httpHost, '/app')).status, 401)
  })
})
