/**
 * Stable error codes of the wire contract (sprites-api.md §1.3) and the HTTP status of each.
 * A code that is shipped is never reused for another meaning.
 */
export const ErrorCode = {
  INVALID_ARGUMENT: 'invalid_argument',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  SPRITE_NOT_FOUND: 'sprite_not_found',
  SESSION_NOT_FOUND: 'session_not_found',
  CHECKPOINT_NOT_FOUND: 'checkpoint_not_found',
  SERVICE_NOT_FOUND: 'service_not_found',
  TASK_NOT_FOUND: 'task_not_found',
  SPRITE_ALREADY_EXISTS: 'sprite_already_exists',
  TASK_ALREADY_EXISTS: 'task_already_exists',
  CONFLICT: 'conflict',
  SESSION_EXITED: 'session_exited',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  SPRITE_CREATION_RATE_LIMITED: 'sprite_creation_rate_limited',
  CONCURRENT_SPRITE_LIMIT_EXCEEDED: 'concurrent_sprite_limit_exceeded',
  INTERNAL: 'internal',
  BAD_GATEWAY: 'bad_gateway',
  SPRITE_UNAVAILABLE: 'sprite_unavailable',
  HOST_NOT_READY: 'host_not_ready',
  INSUFFICIENT_STORAGE: 'insufficient_storage',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** HTTP status per code; a missing code is a compile error. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  sprite_not_found: 404,
  session_not_found: 404,
  checkpoint_not_found: 404,
  service_not_found: 404,
  task_not_found: 404,
  sprite_already_exists: 409,
  task_already_exists: 409,
  conflict: 409,
  session_exited: 410,
  payload_too_large: 413,
  sprite_creation_rate_limited: 429,
  concurrent_sprite_limit_exceeded: 429,
  internal: 500,
  bad_gateway: 502,
  sprite_unavailable: 503,
  host_not_ready: 503,
  insufficient_storage: 507,
}

/** Codes whose failure is transient: callers may retry with backoff. */
export const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'sprite_unavailable',
  'host_not_ready',
  'sprite_creation_rate_limited',
  'concurrent_sprite_limit_exceeded',
])

/** JSON body of every error response. */
export interface ErrorBody {
  error: ErrorCode | string
  message: string
  [detail: string]: unknown
}

/** The one error type of the project: branch on `code`, never on the message. */
export class SpritesError extends Error {
  readonly code: ErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, { cause: options?.cause })
    this.name = 'SpritesError'
    this.code = code
    this.details = options?.details ?? {}
  }

  /** HTTP status of this error. */
  get status(): number {
    return HTTP_STATUS[this.code]
  }

  /** Wire body: `{error, message, ...details}`. */
  toBody(): ErrorBody {
    return { ...this.details, error: this.code, message: this.message }
  }
}

/** True for a SpritesError from any copy of this package (instanceof breaks across copies). */
export function isSpritesError(err: unknown): err is SpritesError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'SpritesError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code in HTTP_STATUS
  )
}

/** Shorthand constructors for the common cases. */
export const errors = {
  invalid: (message: string, details?: Record<string, unknown>) =>
    new SpritesError('invalid_argument', message, { details }),
  spriteNotFound: (name: string) =>
    new SpritesError('sprite_not_found', `sprite not found: ${name}`),
  sessionNotFound: (id: string | number) =>
    new SpritesError('session_not_found', `session not found: ${id}`),
  unauthorized: (message = 'missing or invalid token: send "Authorization: Bearer <token>"') =>
    new SpritesError('unauthorized', message),
  internal: (message: string, cause?: unknown) => new SpritesError('internal', message, { cause }),
}
