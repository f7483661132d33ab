/**
 * The control plane: HTTP API (sprites-api.md §1-2), its extension points for the exec, host and
 * proxy modules, configuration and first-start bootstrap.
 */
export {
  createSpritesServer,
  MAX_WS_PAYLOAD_BYTES,
  type SpritesServer,
  type SpritesServerDeps,
} from './app.ts'
export { authenticate, bearerToken } from './auth.ts'
export {
  ADMIN_TOKEN_FILE,
  type BootstrapDeps,
  type BootstrapResult,
  bootstrap,
  DEFAULT_ORG_SLUG,
  mergeCLIConfig,
} from './bootstrap.ts'
export {
  DEFAULT_PORT,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
  NETWORK_MODES,
  type NetworkMode,
  type ServerConfig,
} from './config.ts'
export { parseJSONBody, readBody, readJSON } from './http/body.ts'
export type { PublicContext, RequestContext, UpgradeContext } from './http/context.ts'
export { type NDJSONStream, startNDJSON } from './http/ndjson.ts'
export {
  errorResponse,
  JSON_CONTENT_TYPE,
  sendEmpty,
  sendError,
  sendJSON,
  writeSocketResponse,
} from './http/respond.ts'
export { type RouteMatch, Router } from './http/router.ts'
export { type Clock, type Logger, noopLogger, systemClock } from './logger.ts'
export type {
  AcceptOptions,
  HostRoute,
  ModuleAPI,
  PublicRouteHandler,
  RouteHandler,
  ServerModule,
  UpgradeHandler,
} from './module-api.ts'
export {
  createFakeSpriteHost,
  type FakeHostCall,
  type FakeSpriteHost,
} from './services/fake-sprite-host.ts'
export type { SpriteHost, SpriteStatusEvent } from './services/sprite-host.ts'
export {
  type CreateInput,
  parseCreateInput,
  parseUpdateInput,
  type UpdateInput,
} from './services/sprite-input.ts'
export {
  createSpriteService,
  DEFAULT_PAGE_SIZE,
  type ListQuery,
  MAX_PAGE_SIZE,
  type SpritePage,
  type SpriteService,
  type SpriteServiceDeps,
} from './services/sprite-service.ts'
export { spriteURL, toWire, type WireConfig } from './services/sprite-wire.ts'
