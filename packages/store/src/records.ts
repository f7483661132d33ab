import { SpritesError } from '@sprites/protocol'
import type {
  NewSprite,
  PoliciesPatch,
  SpritePatch,
  SpritePolicies,
  SpriteRecord,
} from './store.ts'
import { uidBaseForSlot } from './tokens.ts'

/** Patch fields that a client can see change; setting any of them bumps `updatedAt`. */
const USER_VISIBLE: readonly (keyof SpritePatch)[] = [
  'environment',
  'urlSettings',
  'labels',
  'lifecycle',
  'version',
]

/** The full record of a sprite being inserted into `slot` at `now`. */
export function buildSprite(input: NewSprite, slot: number, now: Date): SpriteRecord {
  return {
    ...structuredClone(input),
    slot,
    uidBase: uidBaseForSlot(slot),
    createdAt: now,
    updatedAt: now,
    lastRunningAt: null,
    lastWarmingAt: null,
    lastStartedAt: null,
    lastActiveAt: null,
  }
}

/** A copy of `sprite` with the defined fields of `patch` applied. */
export function applyPatch(sprite: SpriteRecord, patch: SpritePatch, now: Date): SpriteRecord {
  const next: SpriteRecord = { ...sprite }
  let visible = false
  for (const [key, value] of Object.entries(patch) as [keyof SpritePatch, unknown][]) {
    if (value === undefined || key === 'policies') continue
    ;(next as unknown as Record<string, unknown>)[key] = structuredClone(value)
    if (USER_VISIBLE.includes(key)) visible = true
  }
  if (patch.policies) setPolicies(next, mergePolicies(sprite.policies, patch.policies))
  if (visible) next.updatedAt = now
  return next
}

/** `current` with each kind named in `patch` replaced (a value) or removed (`null`). */
function mergePolicies(current: SpritePolicies | undefined, patch: PoliciesPatch): SpritePolicies {
  const merged: Record<string, unknown> = { ...current }
  for (const [kind, value] of Object.entries(patch)) {
    if (value === undefined) continue
    if (value === null) delete merged[kind]
    else merged[kind] = structuredClone(value)
  }
  return merged as SpritePolicies
}

/** Sets `policies`, leaving the field out when no kind is set (the state of a new sprite). */
function setPolicies(sprite: SpriteRecord, policies: SpritePolicies): void {
  if (Object.keys(policies).length > 0) sprite.policies = policies
  else delete sprite.policies
}

/** The error for a name already taken in the same org. */
export function duplicateName(name: string): SpritesError {
  return new SpritesError(
    'sprite_already_exists',
    `a sprite named ${name} already exists in this organization; pick another name or delete it first`,
  )
}
