import type { SpriteRecord } from '@sprites/store'

/**
 * Applies a sprite's stored network egress policy (§8.1) to its running sandbox. The policy
 * routes call it after storing a change; for a sprite that is not running it does nothing (the
 * implementation applies the stored policy again whenever the sprite boots).
 */
export interface EgressEnforcer {
  apply(sprite: SpriteRecord): Promise<void>
}
