import { type ErrorCode, HTTP_STATUS, SpritesError } from '@sprites/protocol'

/** Error code used for a status when the body names no known code. */
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_argument',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'session_exited',
  413: 'payload_too_large',
  429: 'sprite_creation_rate_limited',
  502: 'bad_gateway',
  503: 'sprite_unavailable',
  507: 'insufficient_storage',
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(HTTP_STATUS, value)
}

/** The JSON object in `text`, or null when it is not one. */
export function parseJSONObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/**
 * Turns an HTTP error response into a SpritesError: the server's `error` code and `message` when
 * the body is the contract's JSON error (§1.3), else a code derived from the status and the body
 * text as the message. Extra body fields and the status land in `details`.
 * @example parseAPIError(404, '{"error":"sprite_not_found","message":"sprite not found: a"}').code // 'sprite_not_found'
 */
export function parseAPIError(status: number, bodyText: string): SpritesError {
  const fallback = CODE_BY_STATUS[status] ?? 'internal'
  const body = parseJSONObject(bodyText)
  if (!body) {
    const text = bodyText.trim().slice(0, 500)
    return new SpritesError(fallback, text || `HTTP ${status}`, { details: { status } })
  }
  const { error, message, ...rest } = body
  const code = isErrorCode(error) ? error : fallback
  let text = typeof message === 'string' && message ? message : ''
  // Filesystem errors carry the human text in `error` and an errno name in `code` (§5).
  if (!text) text = typeof error === 'string' && error ? error : `HTTP ${status}`
  const details: Record<string, unknown> = { ...rest, status }
  if (typeof error === 'string' && !isErrorCode(error)) details.error = error
  return new SpritesError(code, text, { details })
}
