import { SpritesError } from '@sprites/protocol'
import type { ServerConfig } from '../config.ts'

const MINUTE_MS = 60_000

/** Operator limits on creating sprites (§1.3 429); see {@link createLimits}. */
export type CreateLimits = ReturnType<typeof createLimits>

/**
 * The creation limits of `config.limits`, per organization: a cap on how many sprites it has
 * (429 `concurrent_sprite_limit_exceeded`), and a token bucket of `createsPerMinute` creations
 * refilled evenly over a minute (429 `sprite_creation_rate_limited`). Both answers carry
 * `Retry-After` and the `X-RateLimit-*` headers. Without a configured limit nothing is checked.
 */
export function createLimits(limits: ServerConfig['limits'], now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>()

  function takeCreation(orgID: string): void {
    const per = limits.createsPerMinute
    if (per === null) return
    const t = now()
    const rate = per / MINUTE_MS
    const b = buckets.get(orgID) ?? { tokens: per, at: t }
    b.tokens = Math.min(per, b.tokens + (t - b.at) * rate)
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
      t + waitMs,
      t,
    )
  }

  return {
    /**
     * Before a create: refuses when the org has `maxSprites` sprites already (`count` tells how
     * many) or has used its creations of the last minute; otherwise takes one creation.
     * @throws SpritesError 429
     */
    async admit(orgID: string, count: () => Promise<number>): Promise<void> {
      const max = limits.maxSprites
      const current = max === null ? 0 : await count()
      if (max !== null && current >= max) {
        const t = now()
        throw limited(
          'concurrent_sprite_limit_exceeded',
          `this organization has ${current} sprites, the most this server allows is ${max}; delete one first`,
          { limit: max, current_count: current },
          t + MINUTE_MS,
          t,
        )
      }
      takeCreation(orgID)
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
  resetAt: number,
  t: number,
): SpritesError {
  return new SpritesError(code, message, {
    details: {
      ...fields,
      retry_after_seconds: Math.max(1, Math.ceil((resetAt - t) / 1000)),
      rate_limit_reset: Math.ceil(resetAt / 1000),
    },
  })
}
