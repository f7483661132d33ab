import { isIP } from 'node:net'
import { type DomainRule, expandNetworkRules, isEnforced } from '@sprites/protocol'
import { EgressFailedClosedError } from '@sprites/runtime'
import type { SpriteRecord, Store } from '@sprites/store'
import type { Logger } from '../logger.ts'
import type { EgressEnforcer } from './egress-port.ts'
import { networkPolicyOf } from './sprite-policies.ts'

/** Where rules are put in force: the network driver (`NetnsNetworkDriver.setEgress`). */
export interface EgressTarget {
  setEgress(slot: number, rules: readonly DomainRule[]): Promise<void>
}

export interface EgressEnforcerDeps {
  network: EgressTarget
  store: Pick<Store, 'getSpriteByID'>
  log: Logger
  /** Host names that `{"include":"defaults"}` adds: the server's own API host. */
  extraDefaults?: readonly string[]
}

/**
 * Puts sprites' network egress policies (§8.1) in force. `boot` runs while a sprite starts
 * (RuntimeSpriteHost `networkReady`, before anything runs in it) and `apply` when the policy
 * changes; both push the policy as stored at that moment, expanded, to the network driver, one
 * at a time per sprite. `forget` (on `stopped`) makes later changes no-ops until the next boot.
 */
export class NetworkEgressEnforcer implements EgressEnforcer {
  readonly #o: EgressEnforcerDeps
  /** Sprites with a sandbox (running or warm). */
  readonly #live = new Set<string>()
  readonly #queues = new Map<string, Promise<void>>()

  constructor(o: EgressEnforcerDeps) {
    this.#o = o
  }

  /**
   * Applies the stored policy to a sprite whose network just came up. A policy that could not
   * be applied but left the sprite denying everything is logged and the boot goes on (the
   * driver restores it when its resolver is back); any other failure rejects, failing the boot.
   */
  async boot(sprite: SpriteRecord): Promise<void> {
    this.#live.add(sprite.id)
    try {
      await this.#sync(sprite)
    } catch (err) {
      if (err instanceof EgressFailedClosedError) {
        this.#o.log.error({ err, spriteID: sprite.id }, 'egress policy not applied; denying all')
        return
      }
      this.#live.delete(sprite.id)
      throw err
    }
  }

  /**
   * The seam's `apply`: a live sprite gets its stored policy now; otherwise nothing happens.
   * @throws Error when the policy is not in force (an enforced one then denies everything).
   */
  async apply(sprite: SpriteRecord): Promise<void> {
    if (!this.#live.has(sprite.id)) return
    await this.#sync(sprite)
  }

  /** The sprite's sandbox is gone. */
  forget(spriteID: string): void {
    this.#live.delete(spriteID)
  }

  #sync(sprite: SpriteRecord): Promise<void> {
    const previous = this.#queues.get(sprite.id) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(() => this.#push(sprite))
    this.#queues.set(sprite.id, next)
    const done = () => {
      if (this.#queues.get(sprite.id) === next) this.#queues.delete(sprite.id)
    }
    next.then(done, done)
    return next
  }

  /** Pushes the policy as stored now (a queued call may carry an older copy). */
  async #push(given: SpriteRecord): Promise<void> {
    if (!this.#live.has(given.id)) return
    const sprite = (await this.#o.store.getSpriteByID(given.id).catch(() => undefined)) ?? given
    const policy = networkPolicyOf(sprite)
    const rules = isEnforced(policy)
      ? expandNetworkRules(policy.rules, this.#o.extraDefaults ?? [])
      : []
    const started = performance.now()
    await this.#o.network.setEgress(sprite.slot, rules)
    const ms = Math.round((performance.now() - started) * 10) / 10
    this.#o.log.debug({ spriteID: sprite.id, rules: rules.length, ms }, 'egress policy applied')
  }
}

/** The API host name of a public URL, for `defaults`; none when it is an IP address. */
export function apiHostNames(publicURL: string): string[] {
  const host = new URL(publicURL).hostname.replace(/^\[|\]$/g, '')
  return host === '' || isIP(host) !== 0 ? [] : [host.toLowerCase()]
}
