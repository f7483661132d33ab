import type { IncomingMessage } from 'node:http'
import { errors } from '@sprites/protocol'
import type { OrgRecord, Store, TokenRecord } from '@sprites/store'

/** The `Bearer` credential of a request, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization
  if (!header) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1]! : null
}

/**
 * Resolves the request's bearer token to its org.
 * @throws SpritesError unauthorized (401) when the token is missing or unknown.
 */
export async function authenticate(
  req: IncomingMessage,
  store: Pick<Store, 'resolveToken'>,
): Promise<{ org: OrgRecord; token: TokenRecord }> {
  const token = bearerToken(req)
  if (!token) {
    throw errors.unauthorized('missing token: send "Authorization: Bearer <token>"')
  }
  const hit = await store.resolveToken(token)
  if (!hit) throw errors.unauthorized('unknown or revoked token')
  return hit
}
