import { sendJSON } from '../http/respond.ts'
import { spriteURL, type WireConfig } from '../services/sprite-wire.ts'
import type { InSpriteHandler } from './insprite-api.ts'

/** `GET /v1/info` → `{name, id, org, url, version}` (sprites-api.md §12.3); org is the slug. */
export function infoRoute(config: WireConfig): InSpriteHandler {
  return ({ sprite, org, res }) =>
    sendJSON(res, 200, {
      name: sprite.name,
      id: sprite.id,
      org: org.slug,
      url: spriteURL(sprite.name, org, config),
      version: sprite.version,
    })
}
