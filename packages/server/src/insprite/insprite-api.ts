import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { SpritesError } from '@sprites/protocol'
import type { OrgRecord, SpriteRecord, Store } from '@sprites/store'
import { requestURL } from '../http/context.ts'
import { sendError, sendJSON } from '../http/respond.ts'
import { Router } from '../http/router.ts'
import type { Logger } from '../logger.ts'
import type { WireConfig } from '../services/sprite-wire.ts'
import { infoRoute } from './insprite-info.ts'

/** Who is calling: the process that connected to `/.sprite/api.sock` (ids inside the sprite). */
export interface InSpritePeer {
  uid: number
  gid: number
  pid: number
}

/** Everything an in-sprite route handler gets. The sprite and its org are read per request. */
export interface InSpriteContext {
  readonly sprite: SpriteRecord
  readonly org: OrgRecord
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  readonly query: URLSearchParams
  readonly params: Readonly<Record<string, string>>
  readonly peer: InSpritePeer
  readonly log: Logger
}

export type InSpriteHandler = (ctx: InSpriteContext) => Promise<void> | void

/**
 * The HTTP API a sprite reaches at `/.sprite/api.sock` (sprites-api.md §12.3): no auth (file
 * permissions are the gate), scope is the calling sprite. Modules add routes with `route()`.
 */
export interface InSpriteAPI {
  /** Adds a route; patterns as the server's Router (`:name`, final `*`). */
  route(method: string, pattern: string, handler: InSpriteHandler): void
  /** Serves HTTP on one api.sock connection of `sprite` until it closes. */
  serve(sprite: Pick<SpriteRecord, 'id'>, socket: Duplex, peer?: InSpritePeer): void
  /** Runs `hook` for every request (activity); hooks must not throw. */
  onRequest(hook: (spriteID: string) => void): void
  /** Open api.sock connections. */
  readonly connections: number
  /** Destroys every open connection. */
  close(): void
}

export interface InSpriteAPIOptions {
  log: Logger
  store: Pick<Store, 'getSpriteByID' | 'getOrg'>
  /** Shapes `url` in `/v1/info`. */
  config: WireConfig
  /**
   * Most api.sock connections one sprite may hold open; more are closed at once, so one sprite
   * cannot use up spritesd's memory and descriptors, which every sprite shares. @default 64
   */
  maxConnectionsPerSprite?: number
}

const UNKNOWN_PEER: InSpritePeer = { uid: -1, gid: -1, pid: 0 }

/**
 * Creates the in-sprite API with its built-in `GET /v1/info`.
 * @example
 * const insprite = createInSpriteAPI({ log, store, config })
 * sandbox.on('connection', (socket, peer) => insprite.serve(sprite, socket, peer))
 */
export function createInSpriteAPI(o: InSpriteAPIOptions): InSpriteAPI {
  const router = new Router<InSpriteHandler>()
  const hooks: Array<(spriteID: string) => void> = []
  const sockets = new Set<Duplex>()
  const perSprite = new Map<string, number>()
  const maxPerSprite = o.maxConnectionsPerSprite ?? 64
  // Refusals are logged once a minute per sprite with their count, so a sprite cannot flood
  // the host's log by connecting in a loop.
  const refusals = new Map<string, { count: number; loggedAt: number }>()
  const refused = (spriteID: string) => {
    const r = refusals.get(spriteID) ?? { count: 0, loggedAt: Number.NEGATIVE_INFINITY }
    r.count++
    refusals.set(spriteID, r)
    if (performance.now() - r.loggedAt < 60_000) return
    o.log.warn(
      { spriteID, max: maxPerSprite, refused: r.count },
      'api.sock connections refused: too many open',
    )
    r.loggedAt = performance.now()
    r.count = 0
  }
  const bySocket = new WeakMap<object, { spriteID: string; peer: InSpritePeer }>()
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const owner = bySocket.get(req.socket)
    if (!owner) return res.destroy()
    for (const hook of hooks) hook(owner.spriteID)
    void handle(o, router, owner.spriteID, owner.peer, req, res)
  })
  server.on('clientError', (_err, socket: Duplex) => socket.destroy())
  const api: InSpriteAPI = {
    route: (method, pattern, handler) => router.add(method, pattern, handler),
    serve(sprite, socket, peer = UNKNOWN_PEER) {
      const open = perSprite.get(sprite.id) ?? 0
      if (open >= maxPerSprite) {
        refused(sprite.id)
        return void socket.destroy()
      }
      perSprite.set(sprite.id, open + 1)
      socketLike(socket)
      bySocket.set(socket, { spriteID: sprite.id, peer })
      sockets.add(socket)
      socket.once('close', () => {
        sockets.delete(socket)
        const left = (perSprite.get(sprite.id) ?? 1) - 1
        if (left > 0) perSprite.set(sprite.id, left)
        else {
          perSprite.delete(sprite.id)
          refusals.delete(sprite.id)
        }
      })
      socket.on('error', () => socket.destroy())
      server.emit('connection', socket)
    },
    onRequest: (hook) => void hooks.push(hook),
    get connections() {
      return sockets.size
    },
    close() {
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
  }
  api.route('GET', '/v1/info', infoRoute(o.config))
  return api
}

const SOCKET_METHODS = ['setNoDelay', 'setKeepAlive', 'setTimeout'] as const

/** Gives a plain Duplex the no-op socket methods that `http` and our helpers call. */
function socketLike(socket: Duplex): void {
  const s = socket as unknown as Record<string, unknown>
  for (const m of SOCKET_METHODS) if (typeof s[m] !== 'function') s[m] = () => socket
}

async function handle(
  o: InSpriteAPIOptions,
  router: Router<InSpriteHandler>,
  spriteID: string,
  peer: InSpritePeer,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = requestURL(req)
  const log = o.log.child({ insprite: spriteID, method: req.method, path: url.pathname })
  try {
    const m = router.match(req.method ?? 'GET', url.pathname)
    if (m.kind === 'not_found') {
      throw new SpritesError('not_found', `no such endpoint: ${req.method} ${url.pathname}`)
    }
    if (m.kind === 'method_not_allowed') {
      const message = `${req.method} is not allowed here; use ${m.allowed.join(', ')}`
      const allow = { Allow: m.allowed.join(', ') }
      return sendJSON(res, 405, { error: 'method_not_allowed', message }, allow)
    }
    const sprite = await o.store.getSpriteByID(spriteID)
    const org = sprite && (await o.store.getOrg(sprite.orgID))
    if (!sprite || !org) throw new SpritesError('sprite_not_found', 'this sprite no longer exists')
    const ctx = { sprite, org, req, res, url, query: url.searchParams, params: m.params, peer, log }
    await m.value(ctx)
  } catch (err) {
    sendError(res, err, log)
  }
}
