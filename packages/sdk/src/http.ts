import { SpritesError } from '@sprites/protocol'
import { parseAPIError } from './api-error.ts'
import type { ResolvedOptions } from './options.ts'

/** Query values; arrays become repeated parameters in order. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>

export interface RequestOptions {
  query?: Query
  /** JSON body (serialized here) or raw bytes. */
  json?: unknown
  body?: Uint8Array
  accept?: string
  /** Per-call deadline; `null` = none (streams). @default options.timeoutMs */
  timeoutMs?: number | null
}

/** Serializes a Query into `URLSearchParams`, keeping repeated values in order. */
export function toSearchParams(query: Query = {}): URLSearchParams {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) params.append(key, v)
    else params.append(key, String(value))
  }
  return params
}

/** Builds `<baseURL>/v1/<segments…>?query`, percent-encoding each path segment. */
export function apiURL(baseURL: string, segments: readonly (string | number)[], query?: Query) {
  const path = segments.map((s) => encodeURIComponent(String(s))).join('/')
  const qs = toSearchParams(query).toString()
  return `${baseURL}/v1/${path}${qs ? `?${qs}` : ''}`
}

function buildInit(o: ResolvedOptions, method: string, req: RequestOptions): RequestInit {
  const headers: Record<string, string> = { Authorization: `Bearer ${o.token}` }
  if (req.accept) headers.Accept = req.accept
  let body: RequestInit['body']
  if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(req.json)
  } else if (req.body) {
    headers['Content-Type'] = 'application/octet-stream'
    body = req.body
  }
  const timeoutMs = req.timeoutMs === undefined ? o.timeoutMs : req.timeoutMs
  const signal = timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)
  return { method, headers, body, signal }
}

function transportError(url: string, err: unknown): SpritesError {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string }
  if (e?.name === 'TimeoutError') {
    return new SpritesError('internal', `request to ${url} timed out`, { cause: err })
  }
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)
  return new SpritesError(
    'internal',
    `cannot reach ${new URL(url).origin} (${why}): check the API URL (SPRITES_API_URL)`,
    { cause: err },
  )
}

/**
 * Sends one API request; a non-2xx status becomes a SpritesError via parseAPIError.
 * @throws SpritesError with the server's code, or `internal` when the server cannot be reached
 */
export async function request(
  o: ResolvedOptions,
  method: string,
  segments: readonly (string | number)[],
  req: RequestOptions = {},
): Promise<Response> {
  const url = apiURL(o.baseURL, segments, req.query)
  let res: Response
  try {
    res = await o.fetch(url, buildInit(o, method, req))
  } catch (err) {
    throw transportError(url, err)
  }
  if (!res.ok) throw parseAPIError(res.status, await res.text().catch(() => ''))
  return res
}

/** `request` and parse a JSON body. */
export async function requestJSON(
  o: ResolvedOptions,
  method: string,
  segments: readonly (string | number)[],
  req: RequestOptions = {},
): Promise<unknown> {
  const res = await request(o, method, segments, req)
  const text = await res.text()
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new SpritesError('internal', `server sent invalid JSON (HTTP ${res.status})`, {
      cause: err,
    })
  }
}
