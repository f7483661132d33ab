import { parseBool, SpritesError } from '@sprites/protocol'
import type { SpriteRecord } from '@sprites/store'
import { readJSON } from '../http/body.ts'
import type { RequestContext } from '../http/context.ts'
import { type NDJSONStream, startNDJSON } from '../http/ndjson.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { ServerModule } from '../module-api.ts'
import { resolveCheckpointID } from './checkpoint-ids.ts'
import type { CheckpointService } from './checkpoint-service.ts'

const SPRITE = '/v1/sprites/:name'

/** One NDJSON progress event (§6). */
export function streamEvent(type: 'info' | 'complete' | 'error', text: string, extra = {}) {
  const time = new Date().toISOString()
  return type === 'error'
    ? { type, error: text, time, ...extra }
    : { type, data: text, time, ...extra }
}

/** `{}` or `{"comment":"…"}`. @throws invalid_argument */
export function parseCreateBody(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SpritesError('invalid_argument', 'the request body must be a JSON object')
  }
  const comment = (body as { comment?: unknown }).comment
  if (comment === undefined || comment === null) return ''
  if (typeof comment !== 'string')
    throw new SpritesError('invalid_argument', 'comment must be a string')
  return comment
}

/** The C2 `includeAuto` flag (also `include_auto`): a §1.5 boolean, absent = false. */
export function includeAutoParam(query: URLSearchParams): boolean {
  return parseBool(query.get('includeAuto') ?? query.get('include_auto'), false)
}

/** Runs streamed work: errors after the headers become an `error` event (§1.4). */
export async function streamed(stream: NDJSONStream, work: () => Promise<object>): Promise<void> {
  try {
    stream.write(await work())
  } catch (err) {
    stream.write(streamEvent('error', (err as Error).message))
  }
  stream.end()
}

/** Create (C1) and restore (C4) as NDJSON streams; shared with the in-sprite API. */
export const checkpointStreams = {
  async create(
    ctx: Pick<RequestContext, 'res'>,
    service: CheckpointService,
    sprite: SpriteRecord,
    comment: string,
  ) {
    const stream = startNDJSON(ctx.res)
    stream.write(streamEvent('info', 'Creating checkpoint...'))
    await streamed(stream, async () => {
      const c = await service.create(sprite, comment, (m) => stream.write(streamEvent('info', m)))
      return streamEvent('complete', `Checkpoint ${c.id} created successfully`, { id: c.id })
    })
  },
  async restore(
    ctx: Pick<RequestContext, 'res'>,
    service: CheckpointService,
    sprite: SpriteRecord,
    id: string,
  ) {
    const stream = startNDJSON(ctx.res)
    await streamed(stream, async () => {
      await service.restore(sprite, id, (m) => stream.write(streamEvent('info', m)))
      stream.write(streamEvent('info', 'Restore complete'))
      return streamEvent('complete', 'Environment restarting')
    })
  },
}

/** Checkpoint routes C1-C5 (sprites-api.md §6). */
export function checkpointsModule(service: CheckpointService): ServerModule {
  return (api) => {
    const sprite = (ctx: RequestContext) => api.sprites.get(ctx.org, ctx.params.name ?? '')
    api.route('POST', `${SPRITE}/checkpoint`, async (ctx) => {
      const s = await sprite(ctx)
      const comment = parseCreateBody(await readJSON(ctx.req, api.config.maxBodyBytes))
      await checkpointStreams.create(ctx, service, s, comment)
    })
    api.route('GET', `${SPRITE}/checkpoints`, async (ctx) => {
      const list = await service.list(await sprite(ctx), {
        history: ctx.query.get('history'),
        includeAuto: includeAutoParam(ctx.query),
      })
      sendJSON(ctx.res, 200, list)
    })
    api.route('GET', `${SPRITE}/checkpoints/:id`, async (ctx) => {
      sendJSON(ctx.res, 200, await service.get(await sprite(ctx), ctx.params.id ?? ''))
    })
    api.route('DELETE', `${SPRITE}/checkpoints/:id`, async (ctx) => {
      await service.delete(await sprite(ctx), ctx.params.id ?? '')
      sendEmpty(ctx.res, 204)
    })
    api.route('POST', `${SPRITE}/checkpoints/:id/restore`, async (ctx) => {
      const s = await sprite(ctx)
      const id = ctx.params.id ?? ''
      resolveCheckpointID(id, true)
      await service.get(s, id)
      await checkpointStreams.restore(ctx, service, s, id)
    })
  }
}
