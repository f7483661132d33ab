import { SpritesError } from './errors.ts'

/** Sprite names: 1-57 of [a-z0-9-], starting and ending alphanumeric, so `<name>-<org id>` is a DNS label. */
export const SPRITE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,55}[a-z0-9])?$/
export const SPRITE_NAME_RULE =
  'sprite names are 1-57 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit'

/** Service and task names. */
export const SERVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
export const SERVICE_NAME_RULE =
  'names are 1-64 characters of letters, digits, "_", "." and "-", starting with a letter or digit'

/** Org ids: 5 characters of [a-z0-9]. */
export const ORG_ID_RE = /^[a-z0-9]{5}$/

export function isValidSpriteName(name: unknown): name is string {
  return typeof name === 'string' && SPRITE_NAME_RE.test(name)
}

/**
 * @throws SpritesError invalid_argument with a message that states the rule.
 */
export function assertSpriteName(name: unknown): asserts name is string {
  if (!isValidSpriteName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : String(typeof name)
    throw new SpritesError('invalid_argument', `invalid sprite name ${shown}: ${SPRITE_NAME_RULE}`)
  }
}

export function isValidServiceName(name: unknown): name is string {
  return typeof name === 'string' && SERVICE_NAME_RE.test(name)
}
