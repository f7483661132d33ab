import { type DomainRule, decideName } from '@sprites/protocol'
import type { Logger } from '../host/logger.ts'
import {
  type DnsQuestion,
  errorResponse,
  isQuestion,
  parseAnswer,
  parseQuery,
  RCODE,
} from './dns-message.ts'
import {
  type AllowedAddress,
  allowBatch,
  enforceBatch,
  MAX_ALLOW_S,
  openBatch,
  type SpriteEgressTarget,
} from './egress-plan.ts'

/** How a sprite's egress is to be handled, as the server sends it. */
export interface SpriteEgress {
  slot: number
  /** The sprite's address: DNS queries are recognised by it. */
  address: string
  /** Its gateway, where it sends its queries. */
  gateway: string
  /** Expanded rules; empty means no enforcement. */
  rules: DomainRule[]
  /** Policy generation (conntrack mark of the connections it admits), 1..2^32-1. */
  generation: number
}

/** Shortest time an allowed answer keeps its addresses allowed, whatever its TTL. */
export const MIN_ALLOW_S = 5
/** Addresses remembered per sprite (the oldest are forgotten first). */
const MEMORY_LIMIT = 4096
/** Queries of one sprite being forwarded at once; more are answered SERVFAIL. */
const MAX_IN_FLIGHT = 128

export type Transport = 'udp' | 'tcp'

export interface EgressResolverOptions {
  /** nftables table holding the sprites' rules. */
  table: string
  /** Applies one nft batch (see nft-session.ts). */
  nft: (batch: string) => Promise<void>
  /** Sends a query upstream and returns the raw answer. */
  forward: (query: Buffer, via: Transport) => Promise<Buffer>
  log: Logger
  now?: () => number
}

interface SpriteState extends SpriteEgress {
  /** Address → (name → expiry in ms): which allowed answers gave which address, until when. */
  memory: Map<string, Map<string, number>>
  inFlight: number
}

/**
 * The decisions of the sprites' DNS resolver. A query is matched to a sprite by its source
 * address; for a sprite under an allowlist a denied name is answered REFUSED and the A records
 * of an allowed answer enter the sprite's nftables set (for their TTL, at least
 * {@link MIN_ALLOW_S}) before the answer is returned. Sprites without rules get every answer
 * and nothing is added. Every sprite's answers are remembered for their TTL, so a policy change
 * keeps the addresses whose names stay allowed (and their connections) and drops the rest.
 */
export class EgressResolver {
  readonly #o: EgressResolverOptions
  readonly #sprites = new Map<string, SpriteState>()
  readonly #now: () => number

  constructor(o: EgressResolverOptions) {
    this.#o = o
    this.#now = o.now ?? Date.now
  }

  /**
   * Applies a sprite's policy. With `restore` (a restarted resolver catching up) the sprite's
   * set is left as the kernel has it; otherwise it is refilled with the remembered addresses
   * that the new rules still allow.
   */
  async setSprite(e: SpriteEgress, restore = false): Promise<void> {
    let s = this.#sprites.get(e.address)
    if (!s || s.slot !== e.slot) {
      s = { ...e, memory: new Map(), inFlight: 0 }
      this.#sprites.set(e.address, s)
    }
    Object.assign(s, { rules: [...e.rules], generation: e.generation, gateway: e.gateway })
    const target = this.#target(s)
    if (s.rules.length === 0) return this.#o.nft(openBatch(target))
    const keep = restore ? [] : this.#stillAllowed(s)
    await this.#o.nft(enforceBatch(target, s.generation, { flush: !restore, keep }))
  }

  /** Forgets a sprite (stopped) and removes its rules. */
  async forget(address: string): Promise<void> {
    const s = this.#sprites.get(address)
    if (!s) return
    this.#sprites.delete(address)
    await this.#o.nft(openBatch(this.#target(s)))
  }

  /** Gateways of the sprites it knows (where listeners are needed). */
  gateways(): string[] {
    return [...new Set([...this.#sprites.values()].map((s) => s.gateway))]
  }

  /** The answer to one query from `source`, or undefined when it must be dropped. */
  async answer(query: Buffer, source: string, via: Transport): Promise<Buffer | undefined> {
    const q = parseQuery(query)
    if (!q) return undefined
    if (!isQuestion(q)) return errorResponse(query, q.rcode, q.question)
    const s = this.#sprites.get(source)
    if (!s || decideName(s.rules, q.name) === 'deny') return refused(query, q)
    if (s.inFlight >= MAX_IN_FLIGHT) return errorResponse(query, RCODE.servFail, q)
    s.inFlight++
    try {
      return await this.#resolve(s, query, q, via)
    } finally {
      s.inFlight--
    }
  }

  async #resolve(s: SpriteState, query: Buffer, q: DnsQuestion, via: Transport): Promise<Buffer> {
    let reply: Buffer
    try {
      reply = await this.#o.forward(query, via)
    } catch (err) {
      this.#o.log.debug({ name: q.name, err: (err as Error).message }, 'upstream failed')
      return errorResponse(query, RCODE.servFail, q)
    }
    const answer = parseAnswer(reply)
    const same =
      answer?.id === q.id &&
      answer.question?.name === q.name &&
      answer.question.qtype === q.qtype &&
      answer.question.qclass === q.qclass
    if (!answer || !same) return errorResponse(query, RCODE.servFail, q)
    if (answer.records.length === 0) return reply
    // The policy may have changed while the query was upstream.
    if (this.#sprites.get(s.address) !== s || decideName(s.rules, q.name) === 'deny') {
      return refused(query, q)
    }
    const allowed = answer.records.map((r) => ({
      address: r.address,
      timeoutS: Math.min(MAX_ALLOW_S, Math.max(MIN_ALLOW_S, r.ttl)),
    }))
    this.#remember(s, q.name, allowed)
    if (s.rules.length === 0) return reply
    try {
      await this.#o.nft(allowBatch(this.#target(s), allowed))
    } catch (err) {
      this.#o.log.error({ err, name: q.name, slot: s.slot }, 'could not allow answer addresses')
      return errorResponse(query, RCODE.servFail, q)
    }
    return reply
  }

  #remember(s: SpriteState, name: string, allowed: AllowedAddress[]): void {
    const now = this.#now()
    for (const a of allowed) {
      const names = s.memory.get(a.address) ?? new Map<string, number>()
      s.memory.delete(a.address)
      names.set(name, Math.max(names.get(name) ?? 0, now + a.timeoutS * 1000))
      s.memory.set(a.address, names)
    }
    for (const [address, names] of s.memory) {
      if (s.memory.size <= MEMORY_LIMIT && [...names.values()].some((t) => t > now)) break
      s.memory.delete(address)
    }
  }

  /** Remembered addresses that an allowed, unexpired name gave, with their remaining time. */
  #stillAllowed(s: SpriteState): AllowedAddress[] {
    const now = this.#now()
    const keep: AllowedAddress[] = []
    for (const [address, names] of s.memory) {
      let until = 0
      for (const [name, expires] of names) {
        if (expires > now && decideName(s.rules, name) === 'allow') until = Math.max(until, expires)
      }
      if (until > now) keep.push({ address, timeoutS: Math.ceil((until - now) / 1000) })
    }
    return keep
  }

  #target(s: SpriteState): SpriteEgressTarget {
    return { table: this.#o.table, slot: s.slot, address: s.address }
  }
}

function refused(query: Buffer, q: DnsQuestion): Buffer {
  return errorResponse(query, RCODE.refused, q)
}
