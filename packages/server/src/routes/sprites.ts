import type { SpriteListWire } from '@sprites/protocol'
import { readJSON } from '../http/body.ts'
import type { RequestContext } from '../http/context.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { ModuleAPI } from '../module-api.ts'
import { watchSprites } from './sprite-watch.ts'

/** Sprite management routes M1-M9 (sprites-api.md §2.2). */
export function spriteRoutes(api: ModuleAPI): void {
  const { sprites, config } = api
  const body = (ctx: RequestContext) => readJSON(ctx.req, config.maxBodyBytes)
  const watch = watchSprites(api)

  api.route('POST', '/v1/sprites', async (ctx) => {
    const sprite = await sprites.create(ctx.org, await body(ctx))
    sendJSON(ctx.res, 201, sprites.toWire(ctx.org, sprite))
  })
  api.route('GET', '/v1/sprites', async (ctx) => {
    if (wantsNDJSON(ctx)) return watch(ctx)
    const page = await sprites.list(ctx.org, {
      prefix: ctx.query.get('prefix') ?? undefined,
      maxResults: ctx.query.get('max_results'),
      continuationToken: ctx.query.get('continuation_token'),
    })
    const counters = await sprites.counters(ctx.org)
    const wire: SpriteListWire = {
      sprites: page.sprites.map((s) => sprites.toWire(ctx.org, s)),
      has_more: page.hasMore,
      next_continuation_token: page.nextContinuationToken,
      ...counters,
      org: counters,
    }
    sendJSON(ctx.res, 200, wire)
  })
  api.route('GET', '/v1/sprites/:name', async (ctx) => {
    const sprite = await sprites.get(ctx.org, ctx.params.name!)
    sendJSON(ctx.res, 200, sprites.toWire(ctx.org, sprite))
  })
  api.route('PUT', '/v1/sprites/:name', async (ctx) => {
    const sprite = await sprites.update(ctx.org, ctx.params.name!, await body(ctx))
    sendJSON(ctx.res, 200, sprites.toWire(ctx.org, sprite))
  })
  api.route('DELETE', '/v1/sprites/:name', async (ctx) => {
    await sprites.remove(ctx.org, ctx.params.name!)
    sendEmpty(ctx.res, 204)
  })
  lifecycleRoutes(api, body)
}

function lifecycleRoutes(api: ModuleAPI, body: (ctx: RequestContext) => Promise<unknown>): void {
  const { sprites, clock } = api
  api.route('POST', '/v1/sprites/:name/upgrade', async (ctx) => {
    const b = (await body(ctx)) as { version?: unknown }
    const version = typeof b?.version === 'string' ? b.version : undefined
    sendJSON(ctx.res, 200, await sprites.upgrade(ctx.org, ctx.params.name!, version))
  })
  api.route('POST', '/v1/sprites/:name/restart', async (ctx) => {
    sendJSON(ctx.res, 200, await sprites.restart(ctx.org, ctx.params.name!))
  })
  api.route('GET', '/v1/sprites/:name/check', async (ctx) => {
    sendJSON(ctx.res, 200, await sprites.check(ctx.org, ctx.params.name!, () => clock.now()))
  })
}

function wantsNDJSON(ctx: RequestContext): boolean {
  return (ctx.req.headers.accept ?? '').toLowerCase().includes('application/x-ndjson')
}
