import type { IncomingMessage } from 'node:http'
import type { Store } from '@sprites/store'

/** Realm of the Basic challenge a browser answers with the token as password. */
export const BASIC_CHALLENGE = 'Basic realm="sprite"'

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
 * True when the request may reach a sprite of `orgID` in `sprite` auth mode: a valid token of
 * that org (in v1 `private_access` does not narrow it further). A foreign org's token fails.
 */
export async function isAuthorized(
  req: IncomingMessage,
  orgID: string,
  store: Pick<Store, 'resolveToken'>,
): Promise<boolean> {
  const token = urlCredential(req)
  if (!token) return false
  const hit = await store.resolveToken(token)
  return hit !== null && hit.org.id === orgID
}
