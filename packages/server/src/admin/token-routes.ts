import { createHash, timingSafeEqual } from 'node:crypto'
import { SpritesError } from '@sprites/protocol'
import { readJSON } from '../http/body.ts'
import { sendJSON } from '../http/respond.ts'
import type { ModuleAPI, ServerModule } from '../module-api.ts'

/**
 * M11 `POST /v1/organizations/{org}/tokens`: an operator holding the admin secret
 * (`Authorization: FlyV1 <secret>`) issues a token for an existing org: 201 `{"token"}`. Without
 * a configured secret every call is 401, so the route grants nothing by default.
 */
export function tokenIssueModule(adminSecret: string | null): ServerModule {
  return (api: ModuleAPI) => {
    api.route(
      'POST',
      '/v1/organizations/:org/tokens',
      async (ctx) => {
        if (!adminSecret) {
          throw new SpritesError(
            'unauthorized',
            'token issuance over the API is off: the operator sets SPRITES_ADMIN_SECRET to enable it',
          )
        }
        if (!secretMatches(ctx.req.headers.authorization, adminSecret)) {
          throw new SpritesError('unauthorized', 'send "Authorization: FlyV1 <admin secret>"')
        }
        const body = await readJSON(ctx.req, api.config.maxBodyBytes)
        const description = descriptionOf(body)
        const org = await api.store.getOrgBySlug(ctx.params.org ?? '')
        if (!org) throw new SpritesError('not_found', `no org ${JSON.stringify(ctx.params.org)}`)
        const { token, record } = await api.store.createToken(org.id, description)
        ctx.log.info({ org: org.slug, tokenID: record.id }, 'token issued (M11)')
        sendJSON(ctx.res, 201, { token })
      },
      { auth: false },
    )
  }
}

/** Compares digests, so neither the length nor a prefix of the secret leaks through timing. */
function secretMatches(header: string | undefined, secret: string): boolean {
  const m = /^FlyV1\s+(\S+)\s*$/.exec(header ?? '')
  if (!m) return false
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(m[1] ?? ''), digest(secret))
}

function descriptionOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SpritesError('invalid_argument', 'the body must be a JSON object')
  }
  const { description, invite_code: invite } = body as Record<string, unknown>
  if (description !== undefined && typeof description !== 'string') {
    throw new SpritesError('invalid_argument', '"description" must be a string')
  }
  if (invite !== undefined && typeof invite !== 'string') {
    throw new SpritesError('invalid_argument', '"invite_code" must be a string')
  }
  const text = (description ?? '').trim()
  if (text.length > 200) {
    throw new SpritesError('invalid_argument', '"description" is at most 200 characters')
  }
  return text || 'issued via the API (M11)'
}
