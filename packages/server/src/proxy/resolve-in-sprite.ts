import { isIP } from 'node:net'
import { SpritesError } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import { runRoot } from '../supervisor/root-command.ts'

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, at most 253 long. */
const HOSTNAME_RE =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

// The first IPv4 address the sprite's own resolver gives (/etc/hosts, then its DNS server,
// where the egress policy answers), as `getent` prints it: `<address> STREAM <name>`.
const RESOLVE = 'getent ahostsv4 -- "$0" | head -n 1'

/**
 * The address the TCP proxy dials for `host` (§9.1): an IP literal or `localhost` as it is, a
 * name resolved inside the sprite, so its `/etc/hosts` and its egress policy decide (a denied
 * name does not resolve, and an allowed answer's addresses become reachable).
 * @throws SpritesError invalid_argument for a malformed name, not_found when it does not resolve
 */
export async function resolveInSprite(sandbox: Sandbox, host: string): Promise<string> {
  if (host === 'localhost' || isIP(host) !== 0) return host
  if (!HOSTNAME_RE.test(host)) throw new SpritesError('invalid_argument', `invalid host ${host}`)
  const r = await runRoot(sandbox, RESOLVE, [host], undefined, {
    timeoutMs: 10_000,
    maxOutputBytes: 4096,
  })
  const address = r.stdout.split(/\s+/)[0] ?? ''
  if (r.code !== 0 || isIP(address) !== 4) {
    throw new SpritesError('not_found', `cannot resolve ${host} inside the sprite`)
  }
  return address
}
