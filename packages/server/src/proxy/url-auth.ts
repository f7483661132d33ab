import type { IncomingMessage } from 'node:http'
import type { Store } from '@sprites/store'
import { sessionFromCookie, type URLSessions } from './url-sessions.ts'

/** Realm of the Basic challenge a browser answers with the token as password. */
export const BASIC_CHALLENGE = 'Basic realm="sprite"'
/** How long a resolved token is trusted without asking the store again. */
export const TOKEN_CACHE_MS = 5_000
const MAX_CACHED_TOKENS = 1_000

/** The credential of a sprite-URL request: `Bearer <token>` or Basic with the token as password. */
export function urlCredential(req: IncomingMessage): string | null {
  const header = req.headers.authorization
  if (!header) return null
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (bearer) return bearer[1] ?? null
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!basic) return null
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? null : decoded.slice(colon + 1) || null
}

/**
 * Org ids of tokens, cached for {@link TOKEN_CACHE_MS} (so a revoked token may keep opening
 * sprite URLs for that long). Only valid tokens are cached.
 */
export class TokenOrgs {
  readonly #store: Pick<Store, 'resolveToken'>
  readonly #cache = new Map<string, { orgID: string; until: number }>()

  constructor(store: Pick<Store, 'resolveToken'>) {
    this.#store = store
  }

  async orgOf(token: string): Promise<string | null> {
    const now = Date.now()
    const hit = this.#cache.get(token)
    if (hit && hit.until > now) return hit.orgID
    const found = await this.#store.resolveToken(token)
    if (!found) {
      this.#cache.delete(token)
      return null
    }
    if (this.#cache.size >= MAX_CACHED_TOKENS) this.#cache.clear()
    this.#cache.set(token, { orgID: found.org.id, until: now + TOKEN_CACHE_MS })
    return found.org.id
  }
}

/**
 * True when the request may reach this sprite in `sprite` auth mode: a valid token of the
 * sprite's org (in v1 `private_access` does not narrow it further), or the browser-login
 * cookie of this very sprite. A foreign org's token fails.
 */
export async function isAuthorized(
  req: IncomingMessage,
  sprite: { id: string; orgID: string },
  tokens: TokenOrgs,
  sessions: URLSessions,
): Promise<boolean> {
  const token = urlCredential(req)
  if (token) return (await tokens.orgOf(token)) === sprite.orgID
  const session = sessionFromCookie(req.headers.cookie)
  return session !== null && sessions.valid(session, sprite.id, sprite.orgID)
}
