import type { NetworkPolicy } from '@sprites/protocol'
import type { PrivilegesPolicy, ResourcesPolicy, SpriteRecord } from '@sprites/store'

type WithPolicies = Pick<SpriteRecord, 'policies'>

/** The sprite's network egress policy as stored; `{"rules":[]}` (no enforcement) when unset. */
export function networkPolicyOf(sprite: WithPolicies): NetworkPolicy {
  return sprite.policies?.network ?? { rules: [] }
}

/** The privileges policy as stored; `{}` when unset. */
export function privilegesPolicyOf(sprite: WithPolicies): PrivilegesPolicy {
  return sprite.policies?.privileges ?? {}
}

/** The resources policy as stored; `{}` when unset. */
export function resourcesPolicyOf(sprite: WithPolicies): ResourcesPolicy | Record<string, never> {
  return sprite.policies?.resources ?? {}
}

/**
 * The memory limit a sprite boots with, in MiB (D1): the resources policy's `limit_mb` when
 * set, else `config.ram_mb`.
 */
export function memoryLimitMB(sprite: Pick<SpriteRecord, 'policies' | 'config'>): number {
  return sprite.policies?.resources?.memory.limit_mb ?? sprite.config.ramMB
}
