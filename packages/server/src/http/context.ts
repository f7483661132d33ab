import type { IncomingMessage, ServerResponse } from 'node:http'
import type { OrgRecord, TokenRecord } from '@sprites/store'
import type { Logger } from '../logger.ts'

/** Everything a route handler gets about one request. */
export interface PublicContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The request URL, resolved against the Host header. */
  readonly url: URL
  readonly query: URLSearchParams
  /** Percent-decoded path parameters of the matched pattern. */
  readonly params: Readonly<Record<string, string>>
  readonly requestID: string
  /** Child logger bound to `{ requestID, method, path }`. */
  readonly log: Logger
}

/** Context of an authenticated request: the token's org and the token itself. */
export interface RequestContext extends PublicContext {
  readonly org: OrgRecord
  readonly token: TokenRecord
}

/** Context of an authenticated WebSocket upgrade: there is no response object, only the socket. */
export type UpgradeContext = Omit<RequestContext, 'res'>

/** Parses the request target; a malformed one resolves against `/`. */
export function requestURL(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost')
  } catch {
    return new URL('/', 'http://localhost')
  }
}
