import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { Duplex } from 'node:stream'
import { isSpritesError, SpritesError } from '@sprites/protocol'
import type { SpriteRecord, Store } from '@sprites/store'
import { errorHeaders, errorResponse, sendJSON, writeSocketResponse } from '../http/respond.ts'
import type { Logger } from '../logger.ts'
import type { HostRoute } from '../module-api.ts'
import { requestHead, requestHeadersForSprite, responseHeaders } from './forward-headers.ts'
import type { SandboxAgent } from './sandbox-agent.ts'
import type { SpriteConnector } from './sprite-connector.ts'
import { parseSpriteHost } from './sprite-host-name.ts'
import { BASIC_CHALLENGE, isAuthorized, TokenOrgs } from './url-auth.ts'
import { handleLogin, isLoginPath, safeNext, sendLoginPage, wantsHTML } from './url-login.ts'
import { URLSessions } from './url-sessions.ts'

/** Keeps a sprite awake while a URL connection is open (D6). */
export type HoldActivity = (spriteID: string) => () => void

export interface URLProxyOptions {
  baseDomain: string
  store: Pick<Store, 'getSprite' | 'resolveToken' | 'getToken'>
  connector: SpriteConnector
  log: Logger
  hold?: HoldActivity
}

interface Deps extends URLProxyOptions {
  tokens: TokenOrgs
  sessions: URLSessions
}

/** Methods retried once on a fresh connection when a reused idle one turns out closed. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The per-sprite URL (§10) as a host route: `<name>-<org id>.<base domain>` is authorised per
 * the sprite's `url_settings.auth` (token, or the browser-login cookie set by `/__sprite/login`),
 * woken, and proxied to its HTTP port over pooled keep-alive connections; bodies stream both
 * ways and WebSocket upgrades are tunnelled.
 */
export function createURLProxy(o: URLProxyOptions): HostRoute {
  const d: Deps = { ...o, tokens: new TokenOrgs(o.store), sessions: new URLSessions() }
  return {
    match: (req) => parseSpriteHost(req.headers.host, o.baseDomain) !== null,
    request: (req, res) =>
      serve(d, req, res).catch((err) => {
        if (res.headersSent) return void res.destroy()
        const { status, body } = errorResponse(err, o.log)
        sendJSON(res, status, body, urlErrorHeaders(status, err))
      }),
    upgrade: (req, socket, head) =>
      tunnel(d, req, socket, head).catch((err) => {
        const { status, body } = errorResponse(err, o.log)
        writeSocketResponse(socket, status, body, null, urlErrorHeaders(status, err))
      }),
  }
}

async function findSprite(d: Deps, req: IncomingMessage): Promise<SpriteRecord> {
  const target = parseSpriteHost(req.headers.host, d.baseDomain)
  const sprite = target ? await d.store.getSprite(target.orgID, target.name) : null
  if (!target || !sprite) {
    throw new SpritesError('sprite_not_found', `no sprite at ${req.headers.host}`)
  }
  return sprite
}

function unauthorized(): SpritesError {
  return new SpritesError(
    'unauthorized',
    'this sprite URL needs an org token: "Authorization: Bearer <token>", Basic auth with the token as password, or a browser login',
  )
}

async function serve(d: Deps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const sprite = await findSprite(d, req)
  const guarded = sprite.urlSettings.auth !== 'public'
  if (guarded && isLoginPath(req.url)) return handleLogin(d, req, res, sprite)
  if (guarded && !(await isAuthorized(req, sprite, d.tokens, d.sessions))) {
    if (wantsHTML(req)) return sendLoginPage(res, safeNext(req.url))
    throw unauthorized()
  }
  const release = d.hold?.(sprite.id)
  res.once('close', () => release?.())
  const agent = await d.connector.agent(sprite)
  forward(req, res, agent, requestHeadersForSprite(req, guarded).flat(), true)
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  agent: SandboxAgent,
  headers: string[],
  mayRetry: boolean,
): void {
  const upstream: ClientRequest = httpRequest({
    agent,
    method: req.method,
    path: req.url,
    headers,
    setHost: false,
  })
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders))
    res.flushHeaders()
    up.pipe(res)
    up.on('error', () => res.destroy())
  })
  upstream.on('error', (err) => {
    if (res.headersSent) return void res.destroy()
    if (mayRetry && upstream.reusedSocket && RETRYABLE.has(req.method ?? '') && !hasBody(req)) {
      return forward(req, res, agent, headers, false)
    }
    const e = isSpritesError(err)
      ? err
      : new SpritesError('bad_gateway', `the sprite's server failed: ${err.message}`)
    sendJSON(res, e.status, e.toBody())
  })
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  if (hasBody(req)) req.pipe(upstream)
  else upstream.end()
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

async function tunnel(d: Deps, req: IncomingMessage, client: Duplex, head: Buffer) {
  const sprite = await findSprite(d, req)
  const guarded = sprite.urlSettings.auth !== 'public'
  if (guarded && !(await isAuthorized(req, sprite, d.tokens, d.sessions))) throw unauthorized()
  const release = d.hold?.(sprite.id)
  client.once('close', () => release?.())
  const upstream = await d.connector.connect(sprite)
  const pairs = requestHeadersForSprite(req, guarded)
  pairs.push(['Connection', 'Upgrade'], ['Upgrade', String(req.headers.upgrade ?? '')])
  upstream.write(requestHead(req, pairs))
  if (head.length > 0) upstream.write(head)
  upstream.pipe(client)
  client.pipe(upstream)
  const end = () => {
    upstream.destroy()
    client.destroy()
  }
  upstream.on('error', end)
  client.on('error', end)
  upstream.on('close', end)
  client.on('close', end)
}

/** An error's headers on sprite URL traffic: the Basic challenge of a 401 besides the usual. */
function urlErrorHeaders(status: number, err: unknown): Record<string, string> {
  return status === 401
    ? { ...errorHeaders(err), 'WWW-Authenticate': BASIC_CHALLENGE }
    : errorHeaders(err)
}
