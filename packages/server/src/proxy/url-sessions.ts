import { randomBytes } from 'node:crypto'

/** Name of the browser-login cookie of a sprite URL. */
export const SESSION_COOKIE = 'sprite_session'
/** How long a browser login lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000
/** Most logins kept at once; the oldest is forgotten first. */
export const MAX_SESSIONS = 10_000

interface Session {
  spriteID: string
  orgID: string
  /** The token that logged in: revoking it ends the session. */
  tokenID: string
  expiresAt: number
}

/**
 * Browser logins to sprite URLs: opaque random values bound to one sprite and its org, kept in
 * memory (a server restart logs every browser out). The org token itself is never stored in
 * the cookie.
 */
export class URLSessions {
  readonly #sessions = new Map<string, Session>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** A new session value for the sprite, made with the token `tokenID`. */
  create(spriteID: string, orgID: string, tokenID: string): string {
    const value = randomBytes(32).toString('base64url')
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value
      if (oldest !== undefined) this.#sessions.delete(oldest)
    }
    this.#sessions.set(value, { spriteID, orgID, tokenID, expiresAt: this.#now() + SESSION_TTL_MS })
    return value
  }

  /**
   * The id of the token behind `value` when it is a live session of exactly this sprite and
   * org; null otherwise. The caller checks that the token still exists.
   */
  tokenOf(value: string, spriteID: string, orgID: string): string | null {
    const s = this.#sessions.get(value)
    if (!s) return null
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(value)
      return null
    }
    return s.spriteID === spriteID && s.orgID === orgID ? s.tokenID : null
  }

  /** Ends one session (logout). */
  delete(value: string): void {
    this.#sessions.delete(value)
  }
}

/** The session cookie's value in a `Cookie` header, if present. */
export function sessionFromCookie(header: string | undefined): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim()
  }
  return null
}

/** A `Cookie` header without the session cookie; null when nothing else is left. */
export function withoutSessionCookie(header: string): string | null {
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p.slice(0, p.indexOf('=')).trim() !== SESSION_COOKIE)
  return kept.length > 0 ? kept.join('; ') : null
}

/**
 * `Set-Cookie` for a session: host-only (no `Domain`, so scoped to this sprite's host), `Path=/`,
 * `HttpOnly`, `SameSite=Lax`, and `Secure` on https. An empty value with max age 0 clears it.
 */
export function sessionSetCookie(value: string, secure: boolean, maxAgeMs = SESSION_TTL_MS) {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
  ]
  if (secure) parts.push('Secure')
  return parts.join('; ')
}
