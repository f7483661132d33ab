import { SpritesError } from '@sprites/protocol'

/** Org slugs: 1-63 of [a-z0-9-], starting with a letter or digit (never contains `/`). */
export const ORG_SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/

/** @throws SpritesError invalid_argument stating the rule. */
export function assertOrgSlug(slug: string): void {
  if (!ORG_SLUG_RE.test(slug)) {
    throw new SpritesError(
      'invalid_argument',
      `invalid org slug ${JSON.stringify(slug)}: 1-63 characters of lowercase letters, digits and hyphens, starting with a letter or digit`,
    )
  }
}
