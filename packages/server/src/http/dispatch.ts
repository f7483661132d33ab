import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { SPRITE_VERSION_HEADER, SpritesError } from '@sprites/protocol'
import type { Store } from '@sprites/store'
import { authenticate } from '../auth.ts'
import type { Logger } from '../logger.ts'
import type { HostRoute, PublicRouteHandler, RouteHandler, UpgradeHandler } from '../module-api.ts'
import { type PublicContext, requestURL } from './context.ts'
import { errorHeaders, errorResponse, sendError, sendJSON, writeSocketResponse } from './respond.ts'
import type { Router } from './router.ts'

export type RouteEntry =
  | { auth: true; handler: RouteHandler }
  | { auth: false; handler: PublicRouteHandler }

export interface DispatchDeps {
  routes: Router<RouteEntry>
  upgrades: Router<UpgradeHandler>
  hostRoutes: HostRoute[]
  store: Pick<Store, 'resolveToken'>
  spriteVersion: string
  log: Logger
  /**
   * Told about every authenticated request; the release it returns runs when the response
   * closes (lifecycle activity: in-flight requests keep their sprite running).
   */
  onRequest?: (method: string, path: string, orgID: string) => (() => void) | undefined
}

function baseContext(req: IncomingMessage, log: Logger) {
  const url = requestURL(req)
  const requestID = randomUUID()
  return {
    req,
    url,
    query: url.searchParams,
    requestID,
    log: log.child({ requestID, method: req.method, path: url.pathname }),
  }
}

function noRoute(method: string | undefined, path: string): SpritesError {
  return new SpritesError('not_found', `no such endpoint: ${method} ${path}`)
}

/** Routes one HTTP request: host routes, then the API table with auth and error handling. */
export function createRequestHandler(d: DispatchDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostRoute = d.hostRoutes.find((r) => r.match(req))
    if (hostRoute) return hostRoute.request(req, res)
    res.setHeader(SPRITE_VERSION_HEADER, d.spriteVersion)
    const base = baseContext(req, d.log)
    try {
      const m = d.routes.match(req.method ?? 'GET', base.url.pathname)
      if (m.kind === 'not_found') throw noRoute(req.method, base.url.pathname)
      if (m.kind === 'method_not_allowed') {
        const message = `${req.method} is not allowed here; use ${m.allowed.join(', ')}`
        return sendJSON(
          res,
          405,
          { error: 'method_not_allowed', message },
          { Allow: m.allowed.join(', ') },
        )
      }
      const ctx: PublicContext = { ...base, res, params: m.params }
      if (!m.value.auth) return await m.value.handler(ctx)
      const auth = await authenticate(req, d.store)
      const release = d.onRequest?.(req.method ?? 'GET', base.url.pathname, auth.org.id)
      if (release) res.once('close', release)
      await m.value.handler({ ...ctx, ...auth })
    } catch (err) {
      if (!res.headersSent) {
        for (const [name, value] of Object.entries(errorHeaders(err))) res.setHeader(name, value)
      }
      sendError(res, err, base.log)
    }
  }
}

/** Routes one upgrade request: host routes, then auth and the upgrade table; errors become JSON. */
export function createUpgradeHandler(d: DispatchDeps, track: (socket: Duplex) => void) {
  return async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    track(socket)
    socket.on('error', () => socket.destroy())
    const hostRoute = d.hostRoutes.find((r) => r.match(req))
    if (hostRoute?.upgrade) return hostRoute.upgrade(req, socket, head)
    const base = baseContext(req, d.log)
    try {
      if (hostRoute) throw noRoute(req.method, base.url.pathname)
      const m = d.upgrades.match(req.method ?? 'GET', base.url.pathname)
      if (m.kind !== 'found') throw noRoute(req.method, base.url.pathname)
      const auth = await authenticate(req, d.store)
      await m.value({ ...base, params: m.params, ...auth }, socket, head)
    } catch (err) {
      const { status, body } = errorResponse(err, base.log)
      writeSocketResponse(socket, status, body, d.spriteVersion)
    }
  }
}
