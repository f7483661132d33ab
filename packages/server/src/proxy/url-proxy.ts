import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { isSpritesError, SpritesError } from '@sprites/protocol'
import type { SpriteRecord, Store } from '@sprites/store'
import { errorResponse, sendJSON, writeSocketResponse } from '../http/respond.ts'
import type { Logger } from '../logger.ts'
import type { HostRoute } from '../module-api.ts'
import { requestHead, requestHeadersForSprite, responseHeaders } from './forward-headers.ts'
import type { SpriteConnector } from './sprite-connector.ts'
import { parseSpriteHost } from './sprite-host-name.ts'
import { BASIC_CHALLENGE, isAuthorized } from './url-auth.ts'

/** Keeps a sprite awake while a URL connection is open (D6). */
export type HoldActivity = (spriteID: string) => () => void

export interface URLProxyOptions {
  baseDomain: string
  store: Pick<Store, 'getSprite' | 'resolveToken'>
  connector: SpriteConnector
  log: Logger
  hold?: HoldActivity
}

/**
 * The per-sprite URL (§10) as a host route: `<name>-<org id>.<base domain>` is authorised per
 * the sprite's `url_settings.auth`, woken, and proxied to its HTTP port; bodies stream both ways
 * and WebSocket upgrades are tunnelled.
 */
export function createURLProxy(o: URLProxyOptions): HostRoute {
  return {
    match: (req) => parseSpriteHost(req.headers.host, o.baseDomain) !== null,
    request: (req, res) =>
      serve(o, req, res).catch((err) => {
        if (res.headersSent) return void res.destroy()
        const { status, body } = errorResponse(err, o.log)
        const headers: Record<string, string> = {}
        if (status === 401) headers['WWW-Authenticate'] = BASIC_CHALLENGE
        const retry = isSpritesError(err) ? err.details.retry_after_seconds : undefined
        if (typeof retry === 'number') headers['Retry-After'] = String(retry)
        sendJSON(res, status, body, headers)
      }),
    upgrade: (req, socket, head) =>
      tunnel(o, req, socket, head).catch((err) => {
        const { status, body } = errorResponse(err, o.log)
        writeSocketResponse(socket, status, body, '')
      }),
  }
}

/** The sprite a request is for, after the auth check of its URL mode. */
async function resolveSprite(o: URLProxyOptions, req: IncomingMessage): Promise<SpriteRecord> {
  const target = parseSpriteHost(req.headers.host, o.baseDomain)
  const sprite = target ? await o.store.getSprite(target.orgID, target.name) : null
  if (!target || !sprite) {
    throw new SpritesError('sprite_not_found', `no sprite at ${req.headers.host}`)
  }
  if (sprite.urlSettings.auth !== 'public' && !(await isAuthorized(req, target.orgID, o.store))) {
    throw new SpritesError(
      'unauthorized',
      'this sprite URL needs an org token: "Authorization: Bearer <token>" or Basic auth with the token as password',
    )
  }
  return sprite
}

async function serve(o: URLProxyOptions, req: IncomingMessage, res: ServerResponse) {
  const sprite = await resolveSprite(o, req)
  const release = o.hold?.(sprite.id)
  res.once('close', () => release?.())
  const socket = await o.connector.connect(sprite)
  const strip = sprite.urlSettings.auth !== 'public'
  const headers = requestHeadersForSprite(req, strip)
  const upstream = httpRequest({
    createConnection: () => socket as never,
    method: req.method,
    path: req.url,
    headers: headers.flat(),
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
    const e = new SpritesError('bad_gateway', `the sprite's server failed: ${err.message}`)
    sendJSON(res, 502, e.toBody())
  })
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  req.pipe(upstream)
}

async function tunnel(o: URLProxyOptions, req: IncomingMessage, client: Duplex, head: Buffer) {
  const sprite = await resolveSprite(o, req)
  const release = o.hold?.(sprite.id)
  client.once('close', () => release?.())
  const upstream = await o.connector.connect(sprite)
  const pairs = requestHeadersForSprite(req, sprite.urlSettings.auth !== 'public')
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
