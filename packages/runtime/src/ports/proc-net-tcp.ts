/** One listening TCP socket from `/proc/<pid>/net/tcp{,6}`. */
export interface ListeningSocket {
  port: number
  /** The listening IP: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, … */
  address: string
  inode: number
}

const TCP_LISTEN = '0A'

/**
 * Parses the text of `/proc/net/tcp` or `/proc/net/tcp6` and returns the sockets in state LISTEN
 * (`0A`). Addresses are in the kernel's byte order: each 32-bit word is little-endian.
 * @example parseProcNetTCP(readFileSync('/proc/1/net/tcp', 'utf8'))
 */
export function parseProcNetTCP(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue
    const [addrHex, portHex] = f[1]!.split(':')
    const address = addrHex ? decodeAddress(addrHex) : undefined
    if (address === undefined || !portHex) continue
    out.push({ port: Number.parseInt(portHex, 16), address, inode: Number(f[9]) })
  }
  return out
}

function decodeAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined
  const bytes: number[] = []
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8)
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16))
  }
  return bytes.length === 4 ? bytes.join('.') : formatIPv6(bytes)
}

/** RFC 5952 text: lower case, the longest run of zero groups (≥ 2) as `::`, v4-mapped dotted. */
export function formatIPv6(bytes: number[]): string {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join('.')}`
  }
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestLen < 2) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
