import { normalizeURL } from '../../config.ts'
import { readConfigFile, storeToken, writeConfigFile } from '../../config-file.ts'
import type { Context } from '../../context.ts'
import { usageError } from '../../usage-error.ts'

/**
 * Stores a four-part token (`<org-slug>/<org-id>/<token-id>/<secret>`, D41) for `url` and selects it.
 * @throws SpritesError (usage) when the token has another shape
 */
export function saveToken(ctx: Context, token: string, url: string | undefined): number {
  const parts = token.trim().split('/')
  if (parts.length !== 4 || parts.some((p) => p === '')) {
    throw usageError('the token must look like <org-slug>/<org-id>/<token-id>/<secret>')
  }
  const org = parts[0] as string
  const apiURL = normalizeURL(url || ctx.config.apiURL)
  const path = ctx.config.configPath
  writeConfigFile(path, storeToken(readConfigFile(path), apiURL, org, token.trim()))
  ctx.out(`Logged in to ${apiURL} as org ${org}`)
  return 0
}
