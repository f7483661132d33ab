import type { DomainRule } from '@sprites/protocol'
import type { Logger } from '../host/logger.ts'
import { type RunCommand, runChecked } from '../host/run-command.ts'
import { enforceBatch, openBatch } from './egress-plan.ts'
import type { SpriteEgress } from './egress-resolver.ts'
import { slotAddresses } from './netns-plan.ts'
import { ResolverProcess } from './resolver-process.ts'

/** An enforced policy was not applied as asked; the sprite denies all egress instead. */
export class EgressFailedClosedError extends Error {
  constructor(slot: number, cause: unknown) {
    super(`egress policy of slot ${slot} not applied (${(cause as Error)?.message}); denying all`, {
      cause,
    })
    this.name = 'EgressFailedClosedError'
  }
}

export interface EgressControllerOptions {
  table: string
  subnet: string
  /** Runs a command where the ruleset lives: `['ip', 'netns', 'exec', <router>]` or `[]`. */
  prefix: readonly string[]
  /** Upstream resolvers of the sprites' DNS. */
  upstreams: readonly string[]
  /** Without the resolver process, sprites get no DNS and policies deny everything. */
  resolver: boolean
  exec: RunCommand
  log: Logger
  /** Last resort when rules cannot be applied: takes the slot's link down. */
  cutLink: (slot: number) => Promise<void>
}

/**
 * The egress side of the network driver: the resolver process, and each slot's policy. A
 * policy normally goes through the resolver (which owns the DNS answers and the sets); when it
 * cannot take it, the rules are applied with `nft -f` directly (an enforced sprite then denies
 * everything until the resolver is back), and when even that fails the sprite's link is taken
 * down. So a sprite whose policy is enforced never runs unrestricted.
 */
export class EgressController {
  readonly #o: EgressControllerOptions
  readonly #slots = new Map<number, SpriteEgress>()
  #resolver: ResolverProcess | undefined
  #generation = (Math.floor(Date.now() / 1000) % 0x7fff_ffff) + 1
  #closed = false

  constructor(o: EgressControllerOptions) {
    this.#o = o
  }

  /** Host pid of the resolver process, while it runs. */
  get resolverPid(): number | undefined {
    return this.#resolver?.pid
  }

  /**
   * (Re)starts the resolver after the router and its ruleset were created, and hands it the
   * policies it should know. A resolver that cannot start is logged and retried in the
   * background; policies still apply (see the class comment).
   */
  async start(): Promise<void> {
    if (!this.#o.resolver || this.#closed) return
    await this.#resolver?.stop()
    const resolver = new ResolverProcess({
      prefix: this.#o.prefix,
      config: {
        table: this.#o.table,
        upstreams: [...this.#o.upstreams],
        nftCommand: ['nft', '-i'],
      },
      log: this.#o.log.child({ component: 'resolver' }),
      onRestart: () => this.#replay(),
    })
    this.#resolver = resolver
    try {
      await resolver.start()
      await this.#replay()
    } catch (err) {
      this.#o.log.error({ err }, 'the sprites resolver did not start; retrying')
    }
  }

  /**
   * Applies expanded rules to a slot whose link is up (empty rules lift any restriction).
   * @throws EgressFailedClosedError when an enforced policy could not be applied as asked and
   *   the sprite denies everything instead (until a restarted resolver restores it); any other
   *   error when not even that worked.
   */
  async set(slot: number, rules: readonly DomainRule[]): Promise<void> {
    const { address, gateway } = slotAddresses(this.#o.subnet, slot)
    const generation = this.#next()
    const egress: SpriteEgress = { slot, address, gateway, rules: [...rules], generation }
    this.#slots.set(slot, egress)
    let cause: unknown = new Error('the sprites resolver is not running')
    if (this.#resolver && !this.#closed) {
      try {
        await this.#resolver.request({ type: 'sprite', egress, restore: false })
        return
      } catch (err) {
        cause = err
      }
    }
    const level = rules.length > 0 ? 'error' : 'warn'
    this.#o.log[level]({ err: cause, slot }, 'the resolver did not take the policy; using nft')
    await this.#direct(egress)
    if (rules.length > 0) throw new EgressFailedClosedError(slot, cause)
  }

  /** Forgets a slot (its link is going away) and removes its rules; never throws. */
  async release(slot: number): Promise<void> {
    const egress = this.#slots.get(slot)
    this.#slots.delete(slot)
    if (!egress || this.#closed) return
    try {
      if (!this.#resolver) throw new Error('no resolver')
      await this.#resolver.request({
        type: 'forget',
        address: egress.address,
        gateway: egress.gateway,
      })
    } catch {
      await this.#nft(openBatch(this.#target(egress))).catch((err: unknown) =>
        this.#o.log.warn({ err, slot }, 'egress rules not removed'),
      )
    }
  }

  /** Stops the resolver and forgets every slot (the router is going away); `start` may follow. */
  async stop(): Promise<void> {
    this.#slots.clear()
    const resolver = this.#resolver
    this.#resolver = undefined
    await resolver?.stop()
  }

  /** Stops the resolver for good (the rules stay in the table until it is removed). */
  async close(): Promise<void> {
    this.#closed = true
    await this.stop()
  }

  async #replay(): Promise<void> {
    for (const egress of this.#slots.values()) {
      await this.#resolver
        ?.request({ type: 'sprite', egress, restore: true })
        .catch((err: unknown) => {
          this.#o.log.error({ err, slot: egress.slot }, 'policy not restored in the resolver')
        })
    }
  }

  async #direct(egress: SpriteEgress): Promise<void> {
    const enforced = egress.rules.length > 0
    const target = this.#target(egress)
    try {
      await this.#nft(
        enforced ? enforceBatch(target, egress.generation, { flush: true }) : openBatch(target),
      )
      return
    } catch (err) {
      if (!enforced) {
        this.#o.log.warn({ err, slot: egress.slot }, 'egress restriction not lifted')
        return
      }
      this.#o.log.error({ err, slot: egress.slot }, 'egress policy not applied; cutting the link')
    }
    await this.#o.cutLink(egress.slot)
  }

  #nft(batch: string): Promise<string> {
    const [file = 'nft', ...args] = [...this.#o.prefix, 'nft', '-f', '-']
    return runChecked(this.#o.exec, file, args, `${batch}\n`)
  }

  #target(egress: SpriteEgress) {
    return { table: this.#o.table, slot: egress.slot, address: egress.address }
  }

  /** The next policy generation: a conntrack mark, 1..2^32-1. */
  #next(): number {
    this.#generation = this.#generation >= 0xffff_ffff ? 1 : this.#generation + 1
    return this.#generation
  }
}
