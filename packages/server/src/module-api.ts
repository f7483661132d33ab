import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Store } from '@sprites/store'
import type { WebSocket } from 'ws'
import type { ServerConfig } from './config.ts'
import type { PublicContext, RequestContext, UpgradeContext } from './http/context.ts'
import type { Clock, Logger } from './logger.ts'
import type { SpriteHost } from './services/sprite-host.ts'
import type { SpriteService } from './services/sprite-service.ts'

export type RouteHandler = (ctx: RequestContext) => Promise<void> | void
export type PublicRouteHandler = (ctx: PublicContext) => Promise<void> | void
/** Handles an authenticated upgrade; it owns the socket (answer with `acceptWebSocket` or write to it). */
export type UpgradeHandler = (
  ctx: UpgradeContext,
  socket: Duplex,
  head: Buffer,
) => Promise<void> | void

/**
 * Traffic selected by something other than the API path (e.g. the per-sprite URL, chosen by
 * `Host`). Matched before API routing, auth and the `Sprite-Version` header.
 */
export interface HostRoute {
  match(req: IncomingMessage): boolean
  request(req: IncomingMessage, res: ServerResponse): Promise<void> | void
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> | void
}

export interface AcceptOptions {
  /** Extra headers on the 101 (e.g. `X-Sprite-Capabilities: signal`); `Sprite-Version` is always sent. */
  headers?: Record<string, string>
}

/** What a {@link ServerModule} may use and register. */
export interface ModuleAPI {
  readonly config: ServerConfig
  readonly store: Store
  readonly host: SpriteHost
  readonly log: Logger
  readonly clock: Clock
  /** Sprite lookups: `sprites.get(ctx.org, name)` throws 404 `sprite_not_found`. */
  readonly sprites: SpriteService
  /** Adds an HTTP route; authenticated (401 before the handler runs) unless `{ auth: false }`. */
  route(method: string, pattern: string, handler: RouteHandler, opts?: { auth?: true }): void
  route(method: string, pattern: string, handler: PublicRouteHandler, opts: { auth: false }): void
  /**
   * Adds a WebSocket upgrade route. Auth is checked first; errors thrown before the handler
   * answers are written to the socket as ordinary JSON HTTP responses with `Sprite-Version`.
   */
  upgrade(pattern: string, handler: UpgradeHandler): void
  /** Completes a WebSocket handshake (ws, `maxPayload` capped) with `Sprite-Version` on the 101. */
  acceptWebSocket(
    ctx: UpgradeContext,
    socket: Duplex,
    head: Buffer,
    opts?: AcceptOptions,
  ): Promise<WebSocket>
  hostRoute(route: HostRoute): void
  /** Runs during graceful close, before the store closes, within `shutdownTimeoutMs`. */
  onClose(fn: () => Promise<void> | void): void
}

/** A unit of routes and background work, installed by `createSpritesServer`. */
export type ServerModule = (api: ModuleAPI) => void
