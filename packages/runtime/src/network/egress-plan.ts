/**
 * Pure planning for the per-sprite part of the egress policy: the nftables commands that put a
 * sprite under its allowlist, lift it, and add the addresses of allowed DNS answers. Each
 * function returns one batch (commands joined by `; `), applied atomically by one `nft` run or
 * one line of an `nft -i` session. The table they work on is {@link routerRuleset}'s.
 *
 * An enforced sprite (slot N, address A) has a set `allow_N` of addresses with timeouts, a chain
 * `egress_N`, and the element `A : jump egress_N` in the table's `egress` map, which the forward
 * chain consults for every packet a sprite sends out. The chain accepts packets of connections
 * admitted under the sprite's current policy generation (their conntrack mark), admits new ones
 * (and older connections) to addresses in the set, and refuses the rest at once: a TCP reset for
 * TCP (new connections fail with ECONNREFUSED, established ones are cut; the kernel rate-limits
 * ICMP errors, not resets), ICMP admin-prohibited for everything else.
 */

/** One sprite's identity in the ruleset. */
export interface SpriteEgressTarget {
  /** nftables table (family inet). */
  table: string
  slot: number
  /** The sprite's own address (the source of everything it sends). */
  address: string
}

/** An address allowed for a while. */
export interface AllowedAddress {
  address: string
  /** Seconds until the element expires. */
  timeoutS: number
}

/** Longest time an answer keeps an address allowed (nft element timeout), one day. */
export const MAX_ALLOW_S = 86_400

/** Names of the per-sprite set and chain. */
export function egressNames(slot: number): { set: string; chain: string } {
  return { set: `allow_${slot}`, chain: `egress_${slot}` }
}

/**
 * Puts the sprite under an allowlist (or updates it): the set, the chain with the policy
 * `generation` (a 32-bit conntrack mark) and the map element. With `flush`, the set is emptied
 * and only `keep` is put back, so connections to other addresses end with the next packet;
 * without it (a resolver restart) the set stays as it is.
 */
export function enforceBatch(
  t: SpriteEgressTarget,
  generation: number,
  opts: { flush: boolean; keep?: readonly AllowedAddress[] },
): string {
  checkGeneration(generation)
  const { set, chain } = egressNames(t.slot)
  const at = `inet ${t.table}`
  const cmds = [`add set ${at} ${set} { type ipv4_addr; flags timeout; }`]
  if (opts.flush) cmds.push(`flush set ${at} ${set}`)
  if (opts.keep && opts.keep.length > 0)
    cmds.push(`add element ${at} ${set} ${elements(opts.keep)}`)
  cmds.push(
    `add chain ${at} ${chain}`,
    `flush chain ${at} ${chain}`,
    `add rule ${at} ${chain} ct state established,related ct mark ${generation} accept`,
    `add rule ${at} ${chain} ip daddr @${set} ct mark set ${generation} accept`,
    `add rule ${at} ${chain} meta l4proto tcp reject with tcp reset`,
    `add rule ${at} ${chain} reject with icmpx type admin-prohibited`,
    ...replaceElement(at, 'egress', `${t.address} : jump ${chain}`, t.address),
  )
  return cmds.join('; ')
}

/**
 * Lifts the allowlist: removes the map element, the chain and the set. Valid whether or not
 * they exist (each is added first, so that the delete cannot fail).
 */
export function openBatch(t: SpriteEgressTarget): string {
  const { set, chain } = egressNames(t.slot)
  const at = `inet ${t.table}`
  return [
    `add chain ${at} ${chain}`,
    `add element ${at} egress { ${t.address} : jump ${chain} }`,
    `delete element ${at} egress { ${t.address} }`,
    `flush chain ${at} ${chain}`,
    `delete chain ${at} ${chain}`,
    `add set ${at} ${set} { type ipv4_addr; flags timeout; }`,
    `delete set ${at} ${set}`,
  ].join('; ')
}

/**
 * Adds the addresses of an allowed answer to an enforced sprite's set, each with its timeout
 * renewed (an existing element is replaced, as `add` alone would keep its old expiry).
 */
export function allowBatch(t: SpriteEgressTarget, addresses: readonly AllowedAddress[]): string {
  const { set } = egressNames(t.slot)
  const at = `inet ${t.table}`
  const cmds: string[] = []
  for (const a of unique(addresses)) {
    cmds.push(...replaceElement(at, set, `${a.address} timeout ${timeout(a.timeoutS)}s`, a.address))
  }
  return cmds.join('; ')
}

/** `add`, `delete`, `add`: replaces an element whether or not it exists, in one transaction. */
function replaceElement(at: string, set: string, element: string, key: string): string[] {
  return [
    `add element ${at} ${set} { ${element} }`,
    `delete element ${at} ${set} { ${key} }`,
    `add element ${at} ${set} { ${element} }`,
  ]
}

function elements(addresses: readonly AllowedAddress[]): string {
  const list = unique(addresses).map((a) => `${a.address} timeout ${timeout(a.timeoutS)}s`)
  return `{ ${list.join(', ')} }`
}

/** One entry per address, the longest timeout winning; addresses must be dotted IPv4. */
function unique(addresses: readonly AllowedAddress[]): AllowedAddress[] {
  const byAddress = new Map<string, number>()
  for (const a of addresses) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(a.address)) {
      throw new RangeError(`not an IPv4 address: ${JSON.stringify(a.address)}`)
    }
    byAddress.set(a.address, Math.max(byAddress.get(a.address) ?? 0, a.timeoutS))
  }
  return [...byAddress].map(([address, timeoutS]) => ({ address, timeoutS }))
}

function timeout(seconds: number): number {
  return Math.min(MAX_ALLOW_S, Math.max(1, Math.ceil(seconds)))
}

function checkGeneration(generation: number): void {
  if (!Number.isSafeInteger(generation) || generation < 1 || generation > 0xffffffff) {
    throw new RangeError(`policy generation ${generation} is not a 32-bit mark above 0`)
  }
}
