/**
 * Pure planning for the per-sprite network: addresses derived from a slot, and the `ip -batch`
 * and `nft -f` texts that build it. Nothing here touches the system.
 */

/** One sprite's point-to-point link: a /30 inside the pool's subnet. */
export interface SlotAddresses {
  /** Router side (the sprite's default gateway), e.g. `10.201.0.5`. */
  gateway: string
  /** Sprite side, `eth0` inside, e.g. `10.201.0.6`. */
  address: string
  /** Prefix length of the link, 30. */
  prefixLength: number
}

const LINK_PREFIX = 30
const LINK_SIZE = 4

/** Parses `a.b.c.d/len` into a network number and a prefix length; throws on bad input. */
export function parseSubnet(cidr: string): { network: number; prefixLength: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  const octets = m ? m.slice(1, 5).map(Number) : []
  const prefixLength = Number(m?.[5])
  if (!m || octets.some((o) => o > 255) || prefixLength > LINK_PREFIX || prefixLength < 8) {
    throw new RangeError(`subnet ${JSON.stringify(cidr)} is not an IPv4 CIDR between /8 and /30`)
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0)
  const size = 2 ** (32 - prefixLength)
  return { network: value - (value % size), prefixLength }
}

/** How many sprites fit into a subnet: one /30 each. */
export function slotCount(cidr: string): number {
  return 2 ** (32 - parseSubnet(cidr).prefixLength) / LINK_SIZE
}

/** The addresses of slot `slot`: the slot-th /30 of the subnet. */
export function slotAddresses(cidr: string, slot: number): SlotAddresses {
  if (!Number.isSafeInteger(slot) || slot < 0 || slot >= slotCount(cidr)) {
    throw new RangeError(`slot ${slot} is outside 0..${slotCount(cidr) - 1} for subnet ${cidr}`)
  }
  const base = parseSubnet(cidr).network + slot * LINK_SIZE
  return { gateway: formatIPv4(base + 1), address: formatIPv4(base + 2), prefixLength: LINK_PREFIX }
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.')
}

/**
 * Router-side batch (run with `ip [-n router] -batch -`): creates the veth with its peer `eth0`
 * directly in the sprite's netns, then addresses and raises the router end.
 */
export function routerLinkBatch(veth: string, spriteNetns: string, a: SlotAddresses): string {
  return [
    `link add ${veth} type veth peer name eth0 netns ${spriteNetns}`,
    `addr add ${a.gateway}/${a.prefixLength} dev ${veth}`,
    `link set ${veth} up`,
    '',
  ].join('\n')
}

/** Sprite-side batch (`ip -n <sprite> -batch -`): eth0 and lo up, default route via the router. */
export function spriteLinkBatch(a: SlotAddresses): string {
  return [
    `addr add ${a.address}/${a.prefixLength} dev eth0`,
    'link set eth0 up',
    'link set lo up',
    `route add default via ${a.gateway}`,
    '',
  ].join('\n')
}

/** What the router's nftables table is built from. */
export interface RouterRules {
  table: string
  /** Prefix shared by the router ends of all sprites' veths, matched as `<prefix>*`. */
  vethPrefix: string
  /** The pool of sprite links: DNS is accepted on its gateway addresses. */
  subnet: string
  /** Interface towards the upstream network; without it, every non-sprite interface is. */
  uplink?: string
}

/**
 * Destinations no sprite ever reaches, whatever its policy: RFC 1918, shared address space
 * (100.64/10), link-local, loopback, "this network", multicast and reserved. IPv6 from sprites
 * is dropped as a whole (sprites have none), which covers `fc00::/7` and `fe80::/10`.
 */
export const BLOCKED_IPV4: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/3',
]

/**
 * The router's nftables table, replaced atomically on every load (the empty declaration makes
 * the `delete` valid on first load). Sprites reach the upstream network (masqueraded) but not
 * each other, private ranges or the router itself, except DNS on their gateway; nothing upstream
 * opens a connection into a sprite. A sprite's packets must carry its own source address (the
 * reverse path through the veth they came in on). Enforced egress policies hook in through the
 * `egress` map (sprite address → its chain, see egress-plan.ts), consulted for every packet a
 * sprite sends out, established or not. Refusals are immediate: a TCP reset for TCP (the
 * kernel rate-limits ICMP errors, not resets), ICMP admin-prohibited otherwise. Only traffic of
 * sprite veths is filtered (policies stay `accept`), so in host mode the host's other traffic is
 * untouched. The rules match the veth prefix, so adding or removing a sprite changes nothing
 * here.
 */
export function routerRuleset(r: RouterRules): string {
  const sprites = `"${r.vethPrefix}*"`
  const out = r.uplink ? `oifname "${r.uplink}"` : `oifname != ${sprites} oifname != "lo"`
  const { network, prefixLength } = parseSubnet(r.subnet)
  const subnet = `${formatIPv4(network)}/${prefixLength}`
  return `table inet ${r.table} {}
delete table inet ${r.table}
table inet ${r.table} {
  set blocked4 {
    type ipv4_addr; flags interval;
    elements = { ${BLOCKED_IPV4.join(', ')} }
  }
  map egress { type ipv4_addr : verdict; }
  chain prerouting_filter {
    type filter hook prerouting priority -150; policy accept;
    iifname ${sprites} fib saddr . iif oif missing drop
  }
  chain forward_filter {
    type filter hook forward priority 0; policy accept;
    iifname ${sprites} oifname ${sprites} drop
    iifname ${sprites} meta nfproto ipv6 drop
    iifname ${sprites} ip daddr @blocked4 meta l4proto tcp reject with tcp reset
    iifname ${sprites} ip daddr @blocked4 reject with icmpx type admin-prohibited
    iifname ${sprites} ip saddr vmap @egress
    iifname ${sprites} ${out} accept
    iifname ${sprites} drop
    oifname ${sprites} ct state established,related accept
    oifname ${sprites} drop
  }
  chain input_filter {
    type filter hook input priority 0; policy accept;
    iifname ${sprites} ct state established,related accept
    iifname ${sprites} ip daddr ${subnet} meta l4proto { tcp, udp } th dport 53 accept
    iifname ${sprites} drop
  }
  chain nat_postrouting {
    type nat hook postrouting priority 100; policy accept;
    ip saddr != 127.0.0.0/8 ${out} masquerade
  }
}
`
}
