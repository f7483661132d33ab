// X3: per-sprite hibernation timings. `warm_after_s` is the idle time before running → warm;
// `cold_after_s` the time warm before warm → cold, counted from the moment the sprite went warm,
// so any pair of values is consistent (no ordering between them is required).
import { errors, type SpriteLifecycleWire } from '@sprites/protocol'
import type { SpriteLifecycle, SpriteRecord } from '@sprites/store'

/** Bounds of the per-sprite timings, in seconds. */
export const LIFECYCLE_LIMITS = {
  warmAfterS: { min: 1, max: 86_400 },
  coldAfterS: { min: 1, max: 604_800 },
} as const

/** A lifecycle change of M5: a field set to null goes back to the server's setting. */
export type LifecyclePatch = { [K in keyof SpriteLifecycle]?: number | null }

/** The server's timings (config `lifecycle`), the defaults of every sprite. */
export interface LifecycleDefaults {
  warmAfterMs: number
  coldAfterMs: number
}

type Obj = Record<string, unknown>
const FIELDS = [
  ['warm_after_s', 'warmAfterS'],
  ['cold_after_s', 'coldAfterS'],
] as const

function parseSeconds(field: string, value: unknown, key: keyof SpriteLifecycle): number {
  const { min, max } = LIFECYCLE_LIMITS[key]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw errors.invalid(
      `lifecycle.${field} must be an integer number of seconds from ${min} to ${max}`,
    )
  }
  return value
}

function lifecycleObject(raw: unknown): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw errors.invalid('lifecycle must be an object {"warm_after_s"?: n, "cold_after_s"?: n}')
  }
  return raw as Obj
}

/**
 * Validates the `lifecycle` of an M1 body (camelCase aliases `warmAfterS`, `coldAfterS` accepted);
 * missing or null fields are left to the server's settings.
 * @throws SpritesError invalid_argument naming the field and its bounds
 */
export function parseLifecycle(raw: unknown): SpriteLifecycle {
  const patch = parseLifecyclePatch(raw)
  const out: SpriteLifecycle = {}
  for (const [, key] of FIELDS) if (typeof patch[key] === 'number') out[key] = patch[key]
  return out
}

/**
 * Validates the `lifecycle` of an M5 body: `null` (the whole object) resets both timings to the
 * server's settings, a null field resets that one, a missing field keeps its value.
 */
export function parseLifecyclePatch(raw: unknown): LifecyclePatch {
  if (raw === null) return { warmAfterS: null, coldAfterS: null }
  const b = lifecycleObject(raw)
  const out: LifecyclePatch = {}
  for (const [field, key] of FIELDS) {
    const value = b[field] !== undefined ? b[field] : b[key]
    if (value === null) out[key] = null
    else if (value !== undefined) out[key] = parseSeconds(field, value, key)
  }
  return out
}

/** The sprite's stored timings with `patch` applied. */
export function applyLifecyclePatch(
  own: SpriteLifecycle | undefined,
  patch: LifecyclePatch,
): SpriteLifecycle {
  const next: SpriteLifecycle = { ...own }
  for (const [, key] of FIELDS) {
    const value = patch[key]
    if (value === null) delete next[key]
    else if (value !== undefined) next[key] = value
  }
  return next
}

/** The timings in force for a sprite, in seconds, as SpriteInfo echoes them. */
export function lifecycleToWire(
  own: SpriteLifecycle | undefined,
  defaults: LifecycleDefaults,
): SpriteLifecycleWire {
  return {
    warm_after_s: own?.warmAfterS ?? defaults.warmAfterMs / 1000,
    cold_after_s: own?.coldAfterS ?? defaults.coldAfterMs / 1000,
  }
}

/** The LifecycleManager's per-sprite overrides (`timingsOf`): only what the sprite sets. */
export function lifecycleTimings(sprite: Pick<SpriteRecord, 'lifecycle'>): {
  warmAfterMs?: number
  coldAfterMs?: number
} {
  const own = sprite.lifecycle
  return {
    ...(own?.warmAfterS !== undefined ? { warmAfterMs: own.warmAfterS * 1000 } : {}),
    ...(own?.coldAfterS !== undefined ? { coldAfterMs: own.coldAfterS * 1000 } : {}),
  }
}
