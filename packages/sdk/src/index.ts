/**
 * `@sprites/sdk`: a client of the Sprites API (see sprites-api.md).
 * @example
 * import { SpritesClient } from '@sprites/sdk'
 * const client = new SpritesClient({ baseURL, token })
 * for await (const s of client.listAllSprites()) console.log(s.name)
 */

export { type ErrorCode, isSpritesError, SpritesError } from '@sprites/protocol'
export { parseAPIError } from './api-error.ts'
export { SpritesClient } from './client.ts'
export type { ExecHTTPOptions, ExecOptions } from './exec-options.ts'
export { ExecSession, type ExecSessionEvents, exitCodeFromClose } from './exec-session.ts'
export {
  type FsCallOptions,
  type FsEntry,
  type FsWriteOptions,
  type FsWriteResult,
  fsErrorCode,
  SpriteFilesystem,
} from './filesystem.ts'
export type {
  SpritesClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './options.ts'
export {
  PortProxy,
  type PortProxyEvents,
  type PortProxyOptions,
  type ProxyDial,
} from './port-proxy.ts'
export { PortWatch, type PortWatchEvents } from './port-watch.ts'
export type {
  OrgCounters,
  SpriteWatchEvent,
  WatchSpritesOptions,
} from './sprite-watch.ts'
export type * from './types.ts'
