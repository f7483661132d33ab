import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto'

const ORG_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
/** Bytes of randomness in a token's secret part (base64url-encoded: 43 characters). */
export const TOKEN_SECRET_BYTES = 32

/** A fresh org id: 5 characters of [a-z0-9]. */
export function newOrgID(): string {
  let id = ''
  for (let i = 0; i < 5; i++) id += ORG_ID_ALPHABET[randomInt(ORG_ID_ALPHABET.length)]
  return id
}

/** A fresh sprite id: `sprite-<uuid v4>`. */
export function newSpriteID(): string {
  return `sprite-${randomUUID()}`
}

/** A fresh token id: `tok` + 16 hex digits (never contains `/`). */
export function newTokenID(): string {
  return `tok${randomBytes(8).toString('hex')}`
}

/** Builds a four-part token `<org-slug>/<org-id>/<token-id>/<secret>`. */
export function newToken(orgSlug: string, orgID: string, tokenID: string): string {
  const secret = randomBytes(TOKEN_SECRET_BYTES).toString('base64url')
  return `${orgSlug}/${orgID}/${tokenID}/${secret}`
}

/** SHA-256 (hex) of the full token value: the only form a store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** True when the value has the four-part shape; anything else is never looked up. */
export function isWellFormedToken(token: string): boolean {
  const parts = token.split('/')
  return parts.length === 4 && parts.every((p) => p.length > 0) && token.length <= 512
}

/** Lowest integer ≥ 1 missing from `used`. */
export function lowestFreeSlot(used: Iterable<number>): number {
  const taken = new Set(used)
  let slot = 1
  while (taken.has(slot)) slot++
  return slot
}

/** First host uid of a slot's 65536-uid range. */
export function uidBaseForSlot(slot: number): number {
  return 1_000_000 + slot * 65536
}
