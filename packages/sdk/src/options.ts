import { SpritesError } from '@sprites/protocol'
import { WebSocket as WSWebSocket } from 'ws'

/** The subset of the WHATWG / `ws` WebSocket API the SDK uses. */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array | string): void
  close(code?: number, reason?: string): void
  // biome-ignore lint/suspicious/noExplicitAny: event shapes differ between ws and undici
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: any) => void): void
}

/** A WebSocket constructor that accepts request headers (`ws`, undici). */
export type WebSocketConstructor = new (
  url: string,
  options: { headers: Record<string, string> },
) => WebSocketLike

/** Options of `new SpritesClient()`. */
export interface SpritesClientOptions {
  /** API base URL, e.g. `https://api.sprites.dev` or `http://127.0.0.1:8080`. */
  baseURL: string
  /** Bearer token (`<org-slug>/<org-id>/<token-id>/<secret>`). */
  token: string
  /** HTTP client. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch
  /** WebSocket constructor for exec and attach. @default the `ws` package's WebSocket */
  WebSocket?: WebSocketConstructor
  /** Deadline of ordinary HTTP calls (not streams or exec). @default 30_000 */
  timeoutMs?: number
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  readonly baseURL: string
  readonly token: string
  readonly fetch: typeof globalThis.fetch
  readonly WebSocket: WebSocketConstructor
  readonly timeoutMs: number
}

export const DEFAULT_TIMEOUT_MS = 30_000

function checkBaseURL(raw: unknown, problems: string[]): string {
  if (typeof raw !== 'string' || raw === '') {
    problems.push('set SPRITES_API_URL or pass `baseURL` (e.g. http://127.0.0.1:8080)')
    return ''
  }
  try {
    const u = new URL(raw)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
  } catch {
    problems.push(`baseURL ${JSON.stringify(raw)} is not an http(s) URL`)
  }
  return raw.replace(/\/+$/, '')
}

/**
 * Validates client options before any I/O.
 * @throws SpritesError invalid_argument listing every problem and how to fix it
 */
export function resolveOptions(opts: SpritesClientOptions): ResolvedOptions {
  const problems: string[] = []
  const o = (opts ?? {}) as Partial<SpritesClientOptions>
  const baseURL = checkBaseURL(o.baseURL, problems)
  if (typeof o.token !== 'string' || o.token.trim() === '') {
    problems.push('set SPRITE_TOKEN or pass `token` to `new SpritesClient()`')
  }
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    problems.push('`timeoutMs` must be a positive number of milliseconds')
  }
  const fetchFn = o.fetch ?? globalThis.fetch
  if (typeof fetchFn !== 'function') problems.push('pass `fetch`: no global fetch is available')
  if (problems.length > 0) throw new SpritesError('invalid_argument', problems.join('; '))
  return Object.freeze({
    baseURL,
    token: (o.token as string).trim(),
    fetch: fetchFn,
    WebSocket: o.WebSocket ?? (WSWebSocket as unknown as WebSocketConstructor),
    timeoutMs,
  })
}
