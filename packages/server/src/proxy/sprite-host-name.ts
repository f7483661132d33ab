import { isValidSpriteName, ORG_ID_RE } from '@sprites/protocol'

/** A sprite addressed by its URL host, `<name>-<org id>.<base domain>` (§10). */
export interface SpriteHostName {
  name: string
  orgID: string
}

/** The host of a `Host` header, lowercased, without the port. */
export function hostOnly(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.lastIndexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/**
 * Parses a `Host` header against the base domain: the first label is split at its last `-`.
 * @returns null when the host is not a sprite URL.
 * @example parseSpriteHost('web-ab12c.sprites.localhost:8080', 'sprites.localhost') // {name:'web', orgID:'ab12c'}
 */
export function parseSpriteHost(
  header: string | undefined,
  baseDomain: string,
): SpriteHostName | null {
  const host = hostOnly(header)
  const suffix = `.${baseDomain.toLowerCase()}`
  if (!host.endsWith(suffix)) return null
  const label = host.slice(0, -suffix.length)
  const dash = label.lastIndexOf('-')
  if (label.includes('.') || dash <= 0) return null
  const name = label.slice(0, dash)
  const orgID = label.slice(dash + 1)
  if (!ORG_ID_RE.test(orgID) || !isValidSpriteName(name)) return null
  return { name, orgID }
}
