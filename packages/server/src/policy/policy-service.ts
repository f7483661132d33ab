import { parseNetworkPolicy } from '@sprites/protocol'
import type { PoliciesPatch, SpriteRecord, Store } from '@sprites/store'
import type { Logger } from '../logger.ts'
import type { EgressEnforcer } from './egress-port.ts'
import type { PolicyFiles } from './policy-files.ts'
import { parsePrivilegesPolicy, parseResourcesPolicy } from './policy-input.ts'

export interface PolicyServiceDeps {
  store: Pick<Store, 'updateSprite'>
  /** Applies a changed network policy to a running sprite; absent = stored only. */
  egress?: EgressEnforcer
  /** Rewrites `/.sprite/policy/network.json` of a running sprite. */
  files?: Pick<PolicyFiles, 'changed'>
  log: Logger
}

/** Policy changes (sprites-api.md §8), independent of HTTP. */
export type PolicyService = ReturnType<typeof createPolicyService>

/**
 * Validates and stores policies; none of this wakes the sprite. A network change is then
 * copied to the sprite's policy file and applied by the egress enforcer (a no-op for a sprite
 * that does not run: it applies the stored policy when the sprite boots).
 */
export function createPolicyService({ store, egress, files, log }: PolicyServiceDeps) {
  const save = (sprite: SpriteRecord, patch: PoliciesPatch) =>
    store.updateSprite(sprite.id, { policies: patch })

  return {
    /**
     * Replaces the whole rule set (POST and PUT, D11).
     * @throws SpritesError invalid_argument `invalid policy: …`; the enforcer's error when a
     * running sprite could not get the new rules (they stay stored and apply at its next boot)
     */
    async setNetwork(sprite: SpriteRecord, body: unknown): Promise<void> {
      const network = parseNetworkPolicy(body)
      const updated = await save(sprite, { network })
      await files?.changed(updated).catch((err: unknown) => {
        log.error({ err, spriteID: sprite.id }, 'policy file not updated')
      })
      await egress?.apply(updated)
    },
    /** Replaces the privileges policy. @throws SpritesError invalid_argument */
    async setPrivileges(sprite: SpriteRecord, body: unknown): Promise<void> {
      await save(sprite, { privileges: parsePrivilegesPolicy(body) })
    },
    /** Removes the privileges policy (unrestricted). */
    async clearPrivileges(sprite: SpriteRecord): Promise<void> {
      await save(sprite, { privileges: null })
    },
    /**
     * Replaces the resources policy (a body without `memory` removes it); the memory limit
     * applies from the next cold boot. @throws SpritesError invalid_argument
     */
    async setResources(sprite: SpriteRecord, body: unknown): Promise<void> {
      await save(sprite, { resources: parseResourcesPolicy(body) })
    },
    /** Removes the resources policy: the next boot uses `config.ram_mb` again. */
    async clearResources(sprite: SpriteRecord): Promise<void> {
      await save(sprite, { resources: null })
    },
  }
}
