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

/** Who a token is: its org and its own id. */
export interface TokenIdentity {
  orgID: string
  tokenID: string
}

/**
 * Tokens resolved to their org, and token ids checked for existence, each cached for
 * {@link TOKEN_CACHE_MS} (so a revoked token, and the browser logins it made, may keep opening
 * sprite URLs for that long). Only valid tokens are cached.
 */
export class TokenOrgs {
  readonly #store: Pick<Store, 'resolveToken' | 'getToken'>
  readonly #byValue = new Map<string, TokenIdentity & { until: number }>()
  readonly #liveIDs = new Map<string, number>()

  constructor(store: Pick<Store, 'resolveToken' | 'getToken'>) {
    this.#store = store
  }

  async resolve(token: string): Promise<TokenIdentity | null> {
    const now = Date.now()
    const hit = this.#byValue.get(token)
    if (hit && hit.until > now) return hit
    const found = await this.#store.resolveToken(token)
    if (!found) {
      this.#byValue.delete(token)
      return null
    }
    if (this.#byValue.size >= MAX_CACHED_TOKENS) this.#byValue.clear()
    const identity = { orgID: found.org.id, tokenID: found.token.id }
    this.#byValue.set(token, { ...identity, until: now + TOKEN_CACHE_MS })
    return identity
  }

  async orgOf(token: string): Promise<string | null> {
    return (await this.resolve(token))?.orgID ?? null
  }

  /** True while the token `tokenID` exists (not revoked). */
  async alive(tokenID: string): Promise<boolean> {
    const now = Date.now()
    if ((this.#liveIDs.get(tokenID) ?? 0) > now) return true
    const found = await this.#store.getToken(tokenID)
    if (!found) {
      this.#liveIDs.delete(tokenID)
      return false
    }
    if (this.#liveIDs.size >= MAX_CACHED_TOKENS) this.#liveIDs.clear()
    this.#liveIDs.set(tokenID, now + TOKEN_CACHE_MS)
    return true
  }
}

/**
 * True when the request may reach this sprite in `sprite` auth mode: a valid token of the
 * sprite's org (in v1 `private_access` does not narrow it further), or the browser-login
 * cookie of this very sprite made with a token that still exists. A foreign org's token fails.
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
  const tokenID = session === null ? null : sessions.tokenOf(session, sprite.id, sprite.orgID)
  return tokenID !== null && (await tokens.alive(tokenID))
}
