import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { type ErrorBody, isSpritesError, SPRITE_VERSION_HEADER } from '@sprites/protocol'
import type { Logger } from '../logger.ts'

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** Writes a JSON response. Headers already set (such as `Sprite-Version`) are kept. */
export function sendJSON(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    ...headers,
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': String(payload.length),
  })
  res.end(payload)
}

/** Writes an empty response (204 and the like). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status)
  res.end()
}

/**
 * Maps an error to its wire form: a SpritesError gives its own status and body; anything else is
 * logged with its stack and becomes 500 `internal`.
 */
export function errorResponse(err: unknown, log: Logger): { status: number; body: ErrorBody } {
  if (isSpritesError(err)) {
    if (err.status >= 500) log.error({ err }, err.message)
    return { status: err.status, body: err.toBody() }
  }
  log.error({ err }, 'unhandled error')
  return { status: 500, body: { error: 'internal', message: 'internal server error' } }
}

/** The one place that turns an error into an HTTP response. */
export function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  const { status, body } = errorResponse(err, log)
  if (res.headersSent) {
    res.destroy()
    return
  }
  // An unread request body (e.g. over the size cap) leaves the connection unusable.
  if (!res.req.complete) res.setHeader('Connection', 'close')
  sendJSON(res, status, body)
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/**
 * Writes a complete HTTP/1.1 JSON response on a raw socket (an upgrade that is refused) and
 * closes it. Sends `Sprite-Version` like every other API response; `null` leaves it out (sprite
 * URL traffic, §1.5). `extra` headers go with it.
 */
export function writeSocketResponse(
  socket: Duplex,
  status: number,
  body: unknown,
  spriteVersion: string | null,
  extra: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable) return
  const payload = Buffer.from(JSON.stringify(body))
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    ...(spriteVersion === null ? [] : [`${SPRITE_VERSION_HEADER}: ${spriteVersion}`]),
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    `Content-Type: ${JSON_CONTENT_TYPE}`,
    `Content-Length: ${payload.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n')
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), payload]))
}

/**
 * The headers an error asks for besides its body: `Retry-After` from `retry_after_seconds`, and
 * for a 429 `X-RateLimit-Limit/Remaining/Reset` from `limit` and `rate_limit_reset` (§1.3).
 */
export function errorHeaders(err: unknown): Record<string, string> {
  if (!isSpritesError(err)) return {}
  const { retry_after_seconds: retry, limit, rate_limit_reset: reset } = err.details
  const headers: Record<string, string> = {}
  if (typeof retry === 'number') headers['Retry-After'] = String(retry)
  if (err.status !== 429 || typeof limit !== 'number') return headers
  headers['X-RateLimit-Limit'] = String(limit)
  headers['X-RateLimit-Remaining'] = '0'
  if (typeof reset === 'number') headers['X-RateLimit-Reset'] = String(reset)
  return headers
}
