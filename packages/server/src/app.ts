import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { SPRITE_VERSION_HEADER } from '@sprites/protocol'
import type { Store } from '@sprites/store'
import { type WebSocket, WebSocketServer } from 'ws'
import type { ServerConfig } from './config.ts'
import {
  createRequestHandler,
  createUpgradeHandler,
  type DispatchDeps,
  type RouteEntry,
} from './http/dispatch.ts'
import { Router } from './http/router.ts'
import { type Clock, type Logger, systemClock } from './logger.ts'
import type { HostRoute, ModuleAPI, ServerModule, UpgradeHandler } from './module-api.ts'
import { controlRoutes } from './routes/control.ts'
import { orgRoutes } from './routes/org.ts'
import { spriteRoutes } from './routes/sprites.ts'
import type { SpriteHost } from './services/sprite-host.ts'
import { createSpriteService } from './services/sprite-service.ts'

/** Largest WebSocket message accepted by `acceptWebSocket` (ws `maxPayload`). */
export const MAX_WS_PAYLOAD_BYTES = 16 * 1024 * 1024

export interface SpritesServerDeps {
  config: ServerConfig
  store: Store
  host: SpriteHost
  log: Logger
  /** @default systemClock */
  clock?: Clock
  /** Installed after the built-in sprite, org and control routes. */
  modules?: ServerModule[]
  /** Lifecycle activity hook for authenticated requests (see DispatchDeps.onRequest). */
  onRequest?: DispatchDeps['onRequest']
}

export interface SpritesServer {
  readonly httpServer: Server
  /** Base URL of the listening server (`http://host:port`), from the bound address. */
  url(): string
  /** Listens on `config.listen`. */
  start(): Promise<void>
  /** Stops accepting, runs close hooks within `shutdownTimeoutMs`, drops what is left, closes the store. */
  close(): Promise<void>
}

/**
 * The control-plane HTTP server: API routes, WebSocket upgrades, and the modules that extend them.
 * @example
 * const server = createSpritesServer({ config, store, host, log })
 * await server.start()
 */
export function createSpritesServer(deps: SpritesServerDeps): SpritesServer {
  const { config, store, log } = deps
  const routes = new Router<RouteEntry>()
  const upgrades = new Router<UpgradeHandler>()
  const hostRoutes: HostRoute[] = []
  const hooks: (() => Promise<void> | void)[] = []
  const sockets = new Set<Duplex>()
  const api = buildAPI(deps, { routes, upgrades, hostRoutes, hooks })
  for (const install of [spriteRoutes, orgRoutes, controlRoutes, ...(deps.modules ?? [])])
    install(api)

  const dispatch = {
    routes,
    upgrades,
    hostRoutes,
    store,
    spriteVersion: config.spriteVersionHeader,
    log,
    onRequest: deps.onRequest,
  }
  const httpServer = createServer(createRequestHandler(dispatch))
  const onUpgrade = createUpgradeHandler(dispatch, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  httpServer.on('upgrade', (req, socket, head) => void onUpgrade(req, socket, head))
  let closing: Promise<void> | undefined
  return {
    httpServer,
    url: () => listeningURL(httpServer),
    start: () => listen(httpServer, config.listen),
    close: () => {
      closing ??= shutdown({
        httpServer,
        hooks,
        sockets,
        store,
        log,
        timeoutMs: config.shutdownTimeoutMs,
      })
      return closing
    },
  }
}

interface Registries {
  routes: Router<RouteEntry>
  upgrades: Router<UpgradeHandler>
  hostRoutes: HostRoute[]
  hooks: (() => Promise<void> | void)[]
}

function buildAPI(deps: SpritesServerDeps, r: Registries): ModuleAPI {
  const { config, store, host, log } = deps
  const sprites = createSpriteService({ store, host, config, log })
  const wss = lazyWebSocketServer(config.spriteVersionHeader)
  return {
    config,
    store,
    host,
    log,
    clock: deps.clock ?? systemClock,
    sprites,
    route(method: string, pattern: string, handler: never, opts?: { auth?: boolean }) {
      r.routes.add(method, pattern, { auth: opts?.auth !== false, handler } as RouteEntry)
    },
    upgrade: (pattern, handler) => r.upgrades.add('GET', pattern, handler),
    acceptWebSocket: (ctx, socket, head, opts) =>
      wss.accept(ctx.req, socket, head, opts?.headers ?? {}),
    hostRoute: (route) => r.hostRoutes.push(route),
    onClose: (fn) => r.hooks.push(fn),
  }
}

function lazyWebSocketServer(spriteVersion: string) {
  let wss: WebSocketServer | undefined
  const extra = new WeakMap<IncomingMessage, Record<string, string>>()
  const get = () => {
    if (wss) return wss
    wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD_BYTES })
    wss.on('headers', (headers, req) => {
      headers.push(`${SPRITE_VERSION_HEADER}: ${spriteVersion}`)
      for (const [k, v] of Object.entries(extra.get(req) ?? {})) headers.push(`${k}: ${v}`)
    })
    return wss
  }
  return {
    accept(req: IncomingMessage, socket: Duplex, head: Buffer, headers: Record<string, string>) {
      extra.set(req, headers)
      return new Promise<WebSocket>((resolve) => get().handleUpgrade(req, socket, head, resolve))
    },
  }
}

function listen(server: Server, at: ServerConfig['listen']): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function listeningURL(server: Server): string {
  const addr = server.address() as AddressInfo | null
  if (!addr || typeof addr === 'string')
    throw new Error('server is not listening; call start() first')
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return `http://${host}:${addr.port}`
}

interface ShutdownDeps {
  httpServer: Server
  hooks: (() => Promise<void> | void)[]
  sockets: Set<Duplex>
  store: Store
  log: Logger
  timeoutMs: number
}

async function shutdown(d: ShutdownDeps): Promise<void> {
  const deadline = Date.now() + d.timeoutMs
  const closed = new Promise<void>((resolve) => d.httpServer.close(() => resolve()))
  d.httpServer.closeIdleConnections()
  const hooks = Promise.allSettled(d.hooks.map(async (fn) => fn())).then((results) => {
    for (const r of results)
      if (r.status === 'rejected') d.log.error({ err: r.reason }, 'close hook failed')
  })
  if (!(await within(hooks, deadline)))
    d.log.warn({ timeoutMs: d.timeoutMs }, 'close hooks timed out')
  for (const socket of d.sockets) socket.destroy()
  await within(closed, deadline)
  d.httpServer.closeAllConnections()
  await d.store.close()
}

/** Waits for `p` until `deadline` (epoch ms); true when it settled in time. */
async function within(p: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
  })
  const done = await Promise.race([p.then(() => true as const), timeout])
  clearTimeout(timer)
  return done
}
