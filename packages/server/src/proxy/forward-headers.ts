import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { withoutSessionCookie } from './url-sessions.ts'

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Header names listed in `Connection` plus the fixed hop-by-hop set. */
function hopHeaders(connection: string | string[] | undefined): Set<string> {
  const out = new Set(HOP_BY_HOP)
  const list = Array.isArray(connection) ? connection.join(',') : (connection ?? '')
  for (const token of list.split(',')) {
    const t = token.trim().toLowerCase()
    if (t) out.add(t)
  }
  return out
}

/** Pairs of `rawHeaders` without hop-by-hop ones (and without `drop`). */
export function endToEnd(rawHeaders: string[], drop: ReadonlySet<string> = new Set()): string[][] {
  const pairs: string[][] = []
  let connection: string[] = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') connection.push(rawHeaders[i + 1] ?? '')
  }
  const hop = hopHeaders(connection)
  connection = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    const lower = name.toLowerCase()
    if (hop.has(lower) || drop.has(lower)) continue
    pairs.push([name, rawHeaders[i + 1] ?? ''])
  }
  return pairs
}

/**
 * Request headers for the sprite: `Host` kept, hop-by-hop removed, the credentials (the
 * `Authorization` header and the login cookie) removed when `stripAuth`, and
 * `X-Forwarded-For/-Proto/-Host` set.
 */
export function requestHeadersForSprite(req: IncomingMessage, stripAuth: boolean): string[][] {
  const drop = new Set(['x-forwarded-proto', 'x-forwarded-host'])
  if (stripAuth) drop.add('authorization').add('cookie')
  const pairs = endToEnd(req.rawHeaders, drop)
  const cookie = stripAuth && req.headers.cookie ? withoutSessionCookie(req.headers.cookie) : null
  if (cookie) pairs.push(['Cookie', cookie])
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  const remote = req.socket.remoteAddress ?? ''
  const xff = pairs.findIndex(([n]) => n?.toLowerCase() === 'x-forwarded-for')
  if (xff >= 0) pairs[xff] = ['X-Forwarded-For', `${pairs[xff]?.[1]}, ${remote}`]
  else pairs.push(['X-Forwarded-For', remote])
  pairs.push(['X-Forwarded-Proto', encrypted ? 'https' : 'http'])
  pairs.push(['X-Forwarded-Host', req.headers.host ?? ''])
  return pairs
}

/** Response headers for the client, hop-by-hop removed (Node frames the body itself). */
export function responseHeaders(rawHeaders: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of endToEnd(rawHeaders)) {
    if (!name) continue
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else out[name] = Array.isArray(prev) ? [...prev, value ?? ''] : [String(prev), value ?? '']
  }
  return out
}

/** An HTTP/1.1 request head with the given header pairs. */
export function requestHead(req: IncomingMessage, pairs: string[][]): string {
  const lines = [`${req.method} ${req.url} HTTP/1.1`, ...pairs.map(([n, v]) => `${n}: ${v}`)]
  return `${lines.join('\r\n')}\r\n\r\n`
}
