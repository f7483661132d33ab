import { sendJSON } from '../http/respond.ts'
import type { ModuleAPI } from '../module-api.ts'

/** M10: the token's organization, with the names of its running sprites. */
export function orgRoutes(api: ModuleAPI): void {
  api.route('GET', '/v1/organization', async (ctx) => {
    const all = await api.store.listSprites(ctx.org.id, { limit: Number.MAX_SAFE_INTEGER })
    const running = all.filter((s) => api.host.status(s) === 'running').map((s) => s.name)
    sendJSON(ctx.res, 200, {
      organization: {
        slug: ctx.org.slug,
        sprites_enabled: true,
        active_sprites: running,
        max_sprites: api.config.limits.maxSprites ?? api.config.warmLimit,
        active_sprite_limit: api.config.runningLimit,
      },
    })
  })
}
