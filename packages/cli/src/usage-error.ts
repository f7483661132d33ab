import { SpritesError } from '@sprites/protocol'

/** A command-line mistake: printed as `error: …` and exits with 2 (§13.3). */
export function usageError(message: string): SpritesError {
  return new SpritesError('invalid_argument', message, { details: { usage: true } })
}

/** True for errors made by `usageError`. */
export function isUsageError(err: unknown): boolean {
  return (err as { details?: { usage?: unknown } } | null)?.details?.usage === true
}
