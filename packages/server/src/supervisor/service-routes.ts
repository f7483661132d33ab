import { errors, parseDuration, parseSignal, SpritesError } from '@sprites/protocol'
import { readJSON } from '../http/body.ts'
import type { RequestContext } from '../http/context.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { InSpriteAPI } from '../insprite/index.ts'
import type { ServerModule } from '../module-api.ts'
import { type LogSnapshot, snapshotLines } from './log-file.ts'
import { assertServiceName, parseDefinition } from './service-definition.ts'
import { type LogLine, parseLogLine } from './service-log.ts'
import { serviceToWire } from './service-state.ts'
import { EventTap, serviceStream } from './service-stream.ts'
import type { SpriteServices } from './sprite-services.ts'
import type { Supervisor } from './supervisor.ts'

const BASE = '/v1/sprites/:name/services'
const DEFAULT_DURATION_MS = 5000
const DEFAULT_STOP_TIMEOUT_MS = 10_000

/** What the handlers use of a request: the same on the API and on the in-sprite socket. */
type Ctx = Pick<RequestContext, 'req' | 'res' | 'query' | 'params' | 'log'>
type Handler = (ctx: Ctx, services: SpriteServices) => Promise<void>
type On = (method: string, path: string, handler: Handler) => void

/** Services API V1-V9 (sprites-api.md §7). Every call wakes the sprite. */
export function serviceModule(supervisor: Supervisor): ServerModule {
  return (api) => {
    register(api.config.maxBodyBytes, (method, path, handler) =>
      api.route(method, `${BASE}${path}`, async (ctx) => {
        const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
        await handler(ctx, await supervisor.forSprite(sprite))
      }),
    )
  }
}

/** The same routes on `/.sprite/api.sock` under `/v1/services` (§12.3), for the calling sprite. */
export function installInSpriteServiceRoutes(
  api: Pick<InSpriteAPI, 'route'>,
  supervisor: Supervisor,
): void {
  register(64 * 1024, (method, path, handler) =>
    api.route(method, `/v1/services${path}`, async (ctx) => {
      await handler(ctx, await supervisor.forSprite(ctx.sprite))
    }),
  )
}

function register(maxBodyBytes: number, on: On): void {
  on('GET', '', async (ctx, s) => {
    sendJSON(
      ctx.res,
      200,
      s.list().map((r) => serviceToWire(r.def, r.state)),
    )
  })
  on('POST', '/signal', (ctx, s) => signal(maxBodyBytes, ctx, s))
  on('GET', '/:svc', async (ctx, s) => {
    const r = runner(ctx, s)
    sendJSON(ctx.res, 200, serviceToWire(r.def, r.state))
  })
  on('PUT', '/:svc', (ctx, s) => put(maxBodyBytes, ctx, s))
  on('DELETE', '/:svc', async (ctx, s) => {
    runner(ctx, s)
    await s.remove(ctx.params.svc ?? '', stopTimeout(ctx))
    sendEmpty(ctx.res, 204)
  })
  on('POST', '/:svc/start', (ctx, s) => start(ctx, s, false))
  on('POST', '/:svc/restart', (ctx, s) => start(ctx, s, true))
  on('POST', '/:svc/stop', (ctx, s) => stop(ctx, s))
  on('GET', '/:svc/logs', (ctx, s) => logs(ctx, s))
}

function runner(ctx: Ctx, s: SpriteServices) {
  const name = ctx.params.svc ?? ''
  assertServiceName(name)
  const r = s.get(name)
  if (!r) throw new SpritesError('service_not_found', `service not found: ${name}`)
  return r
}

function durationParam(ctx: Ctx, key: string, dflt: number): number {
  const v = ctx.query.get(key)
  return v === null || v === '' ? dflt : parseDuration(v, key)
}

function stopTimeout(ctx: Ctx): number {
  return durationParam(ctx, 'timeout', DEFAULT_STOP_TIMEOUT_MS)
}

async function put(maxBodyBytes: number, ctx: Ctx, s: SpriteServices): Promise<void> {
  const name = ctx.params.svc ?? ''
  const def = parseDefinition(name, await readJSON(ctx.req, maxBodyBytes))
  const duration = durationParam(ctx, 'duration', DEFAULT_DURATION_MS)
  const tap = new EventTap(s, name)
  try {
    await s.put(def, DEFAULT_STOP_TIMEOUT_MS)
    await serviceStream(ctx.res, ctx.log, name, (stream) => tap.follow(stream, ctx.res, duration))
  } finally {
    tap.close()
  }
}

async function start(ctx: Ctx, s: SpriteServices, restart: boolean): Promise<void> {
  const r = runner(ctx, s)
  const name = r.def.name
  const duration = durationParam(ctx, 'duration', DEFAULT_DURATION_MS)
  const tap = new EventTap(s, name)
  try {
    await serviceStream(ctx.res, ctx.log, name, async (stream) => {
      if (restart) await s.stop(name, DEFAULT_STOP_TIMEOUT_MS)
      else if (r.state.status === 'running') return
      await s.start(name)
      await tap.follow(stream, ctx.res, duration)
    })
  } finally {
    tap.close()
  }
}

async function stop(ctx: Ctx, s: SpriteServices): Promise<void> {
  const r = runner(ctx, s)
  const name = r.def.name
  if (r.state.status === 'stopped') {
    throw new SpritesError('conflict', `service ${name} is not running`)
  }
  const timeout = stopTimeout(ctx)
  const tap = new EventTap(s, name)
  try {
    await serviceStream(ctx.res, ctx.log, name, async (stream) => {
      const code = await s.stop(name, timeout)
      await tap.follow(stream, ctx.res, 0, (ev) => ev.type !== 'exit')
      if (code === null) stream.write({ type: 'stopped', exit_code: null, timestamp: Date.now() })
    })
  } finally {
    tap.close()
  }
}

async function logs(ctx: Ctx, s: SpriteServices): Promise<void> {
  const r = runner(ctx, s)
  const raw = ctx.query.get('lines')
  const lines = raw === null || raw === '' ? undefined : Number(raw)
  if (lines !== undefined && (!Number.isInteger(lines) || lines < 0)) {
    throw errors.invalid('lines must be a non-negative integer')
  }
  const duration = durationParam(ctx, 'duration', 0)
  const tap = new EventTap(s, r.def.name)
  try {
    await serviceStream(ctx.res, ctx.log, r.def.name, async (stream) => {
      // The newest lines are in memory; more (by default all) come from the log files. Either
      // is taken in the same tick as the tap starts, so no line is missed or sent twice.
      const replay =
        lines !== undefined && lines <= r.logs.size
          ? r.logs.tail(lines)
          : fileLines(s.logSnapshot(r.def.name), lines)
      for await (const l of replay) {
        if (stream.closed) break
        stream.write({ type: l.stream, data: l.data, timestamp: l.timestamp })
        // A client that does not read holds up its own replay, not spritesd's memory.
        await stream.drained()
      }
      await tap.follow(stream, ctx.res, duration)
    })
  } finally {
    tap.close()
  }
}

/** The lines of a log snapshot, or only its last `last`. */
async function* fileLines(snap: LogSnapshot, last: number | undefined): AsyncGenerator<LogLine> {
  const lines = snapshotLines(snap)
  if (last === undefined) {
    for await (const text of lines) {
      const l = parseLogLine(text)
      if (l) yield l
    }
    return
  }
  const kept: LogLine[] = []
  for await (const text of lines) {
    const l = parseLogLine(text)
    if (!l || last === 0) continue
    kept.push(l)
    if (kept.length >= 2 * last) kept.splice(0, kept.length - last)
  }
  yield* kept.slice(-last)
}

async function signal(maxBodyBytes: number, ctx: Ctx, s: SpriteServices): Promise<void> {
  const body = (await readJSON(ctx.req, maxBodyBytes)) as Record<string, unknown>
  const name = body?.name
  if (typeof name !== 'string' || name === '') throw errors.invalid('name is required')
  assertServiceName(name)
  const sig = parseSignal(body.signal as string | number | undefined)
  if (!sig) throw errors.invalid(`unknown signal ${JSON.stringify(body.signal ?? null)}`)
  const r = s.get(name)
  if (!r) throw new SpritesError('service_not_found', `service not found: ${name}`)
  if (r.state.status !== 'running' && r.state.status !== 'stopping') {
    throw new SpritesError('conflict', `service ${name} is not running`)
  }
  r.signal(sig.number)
  sendEmpty(ctx.res, 204)
}
