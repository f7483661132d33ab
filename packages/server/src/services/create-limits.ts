import { SpritesError } from '@sprites/protocol'
import type { ServerConfig } from '../config.ts'

const MINUTE_MS = 60_000

/**
 * The creation limits of `config.limits`, per organization: a cap on how many sprites it has
 * (429 `concurrent_sprite_limit_exceeded`), and a token bucket of `createsPerMinute` creations
 * refilled evenly over a minute (429 `sprite_creation_rate_limited`). Both answers carry
 * `Retry-After` and the `X-RateLimit-*` headers. Without a configured limit nothing is checked.
 * The bucket runs on a monotonic clock (`now`), so a wall-clock step cannot drain it.
 */
export function createLimits(
  limits: ServerConfig['limits'],
  now: () => number = () => performance.now(),
  wallClock: () => number = Date.now,
) {
  const buckets = new Map<string, { tokens: number; at: number }>()
  /** Creates admitted but not yet stored, per org: the count does not see them yet. */
  const pending = new Map<string, number>()

  function takeCreation(orgID: string): void {
    const per = limits.createsPerMinute
    if (per === null) return
    const t = now()
    const rate = per / MINUTE_MS
    const b = buckets.get(orgID) ?? { tokens: per, at: t }
    b.tokens = Math.min(per, b.tokens + Math.max(0, t - b.at) * rate)
    b.at = t
    buckets.set(orgID, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return
    }
    const waitMs = Math.ceil((1 - b.tokens) / rate)
    throw limited(
      'sprite_creation_rate_limited',
      `this organization may create ${per} sprites a minute`,
      { limit: per, window_seconds: MINUTE_MS / 1000 },
      waitMs,
      wallClock(),
    )
  }

  return {
    /**
     * Before a create: refuses when the org has `maxSprites` sprites already (`count` tells how
     * many stored; creates admitted and not yet stored count too) or has used its creations of
     * the last minute; otherwise takes one creation. Call the returned `done` once the create
     * has stored its sprite or failed.
     * @throws SpritesError 429
     */
    async admit(orgID: string, count: () => Promise<number>): Promise<() => void> {
      const max = limits.maxSprites
      if (max !== null) {
        const current = (await count()) + (pending.get(orgID) ?? 0)
        if (current >= max) {
          throw limited(
            'concurrent_sprite_limit_exceeded',
            `this organization has ${current} sprites, the most this server allows is ${max}; delete one first`,
            { limit: max, current_count: current },
            MINUTE_MS,
            wallClock(),
          )
        }
      }
      // From here to the end nothing awaits: the check and the reservation are one step.
      takeCreation(orgID)
      pending.set(orgID, (pending.get(orgID) ?? 0) + 1)
      let done = false
      return () => {
        if (done) return
        done = true
        const left = (pending.get(orgID) ?? 1) - 1
        if (left > 0) pending.set(orgID, left)
        else pending.delete(orgID)
      }
    },
  }
}

/**
 * A 429 with the body fields the official clients read (`limit`, `window_seconds`,
 * `current_count`, `retry_after_seconds`); http/dispatch.ts turns `retry_after_seconds`,
 * `limit` and `rate_limit_reset` into `Retry-After` and `X-RateLimit-*`.
 */
function limited(
  code: 'sprite_creation_rate_limited' | 'concurrent_sprite_limit_exceeded',
  message: string,
  fields: { limit: number; window_seconds?: number; current_count?: number },
  waitMs: number,
  wallNow: number,
): SpritesError {
  return new SpritesError(code, message, {
    details: {
      ...fields,
      retry_after_seconds: Math.max(1, Math.ceil(waitMs / 1000)),
      rate_limit_reset: Math.ceil((wallNow + waitMs) / 1000),
    },
  })
}
