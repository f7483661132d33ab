import type { Duplex } from 'node:stream'
import type { SpriteRecord } from '@sprites/store'
import type { RawData } from 'ws'
import { readJSON } from '../http/body.ts'
import type { RequestContext, UpgradeContext } from '../http/context.ts'
import { sendJSON } from '../http/respond.ts'
import type { ModuleAPI, RouteHandler, ServerModule } from '../module-api.ts'
import { closeOnDelete } from '../services/close-on-delete.ts'
import { fsInvalid, sendFsError } from './fs-errors.ts'
import {
  type FsParams,
  fsParams,
  parseFsBool,
  parseFsMode,
  parseFsOwner,
  parseFsRange,
  resolveFsPath,
} from './fs-params.ts'
import { type FsJSONOp, FsService, type FsServiceOptions, type SpriteStates } from './fs-service.ts'
import { bindWatch, type FsWatchSandbox, spawnFsWatcher } from './fs-watch.ts'

const FS = '/v1/sprites/:name/fs'

/** The filesystem API, F1-F9 of sprites-api.md §5. */
export function fsModule(deps: FsServiceOptions): ServerModule {
  const fs = new FsService(deps)
  return (api) => {
    const route = (method: string, op: string, handler: RouteHandler) =>
      api.route(method, `${FS}/${op}`, async (ctx) => {
        try {
          await handler(ctx)
        } catch (err) {
          if (!sendFsError(ctx.res, err)) throw err
        }
      })
    route('GET', 'read', (ctx) => read(api, fs, ctx))
    route('PUT', 'write', (ctx) => write(api, fs, ctx))
    route('POST', 'write', (ctx) => write(api, fs, ctx))
    route('GET', 'list', (ctx) => jsonOp(api, fs, ctx, 'list', false))
    route('DELETE', 'delete', (ctx) => jsonOp(api, fs, ctx, 'delete', true))
    for (const op of ['rename', 'copy', 'chmod', 'chown'] as const)
      route('POST', op, (ctx) => jsonOp(api, fs, ctx, op, true))
    api.upgrade(`${FS}/watch`, (ctx, socket, head) => watch(api, deps, ctx, socket, head))
  }
}

async function read(api: ModuleAPI, fs: FsService, ctx: RequestContext): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const p = fsParams(ctx.query)
  const path = resolveFsPath(p('path'), p('workingDir'))
  const range = parseFsRange(ctx.req.headers.range, ctx.query)
  const stream = await fs.read(sprite, path, range, { asRoot: parseFsBool(p('asRoot'), 'asRoot') })
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(stream.end - stream.start),
    'Accept-Ranges': 'bytes',
  }
  if (range) headers['Content-Range'] = `bytes ${stream.start}-${stream.end - 1}/${stream.size}`
  ctx.res.writeHead(range ? 206 : 200, headers)
  try {
    await stream.send(ctx.res)
    ctx.res.end()
  } catch (err) {
    ctx.log.warn({ err, path }, 'fs read failed midway')
    ctx.res.destroy()
  }
}

/**
 * F9: starts one watcher in the sprite and binds it to the socket. A watch never wakes a sprite
 * and is not activity (the dispatch hook skips watch paths): on a warm or cold sprite the socket
 * is accepted and the client's subscriptions are held until something else wakes it.
 */
async function watch(
  api: ModuleAPI,
  deps: FsServiceOptions,
  ctx: UpgradeContext,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const asRoot = parseFsBool(ctx.query.get('asRoot'), 'asRoot')
  const states = deps.states
  if (states && states.status(sprite) !== 'running') {
    const ws = await api.acceptWebSocket(ctx, socket, head)
    const held: Array<[RawData, boolean]> = []
    const hold = (data: RawData, isBinary: boolean) => held.push([data, isBinary])
    ws.on('message', hold)
    // Deleted while waiting: the socket goes like every other socket of the sprite (M6).
    const unsubscribeDeleted = closeOnDelete(api.sprites, sprite.id, ws)
    const running = await untilRunning(states, sprite, ws).finally(unsubscribeDeleted)
    if (!running) return
    const sandbox = (await deps.provider.ensureRunning(sprite)) as FsWatchSandbox
    bindWatch(ws, await spawnFsWatcher(sandbox, asRoot), sandbox, ctx.log)
    ws.off('message', hold)
    for (const [data, isBinary] of held) ws.emit('message', data, isBinary)
    return
  }
  const sandbox = (await deps.provider.ensureRunning(sprite)) as FsWatchSandbox
  const proc = await spawnFsWatcher(sandbox, asRoot)
  let ws: Awaited<ReturnType<ModuleAPI['acceptWebSocket']>>
  try {
    ws = await api.acceptWebSocket(ctx, socket, head)
  } catch (err) {
    proc.signal(9)
    throw err
  }
  bindWatch(ws, proc, sandbox, ctx.log)
}

/** Resolves true once the sprite boots or thaws, false if the client leaves first. */
function untilRunning(
  states: SpriteStates,
  sprite: SpriteRecord,
  ws: Awaited<ReturnType<ModuleAPI['acceptWebSocket']>>,
): Promise<boolean> {
  return new Promise((resolve) => {
    const onState = (s: { id: string } | string) => {
      if ((typeof s === 'string' ? s : s.id) !== sprite.id) return
      done(true)
    }
    const done = (running: boolean) => {
      states.off('booted', onState)
      states.off('thawed', onState)
      ws.off('close', onClose)
      resolve(running)
    }
    const onClose = () => done(false)
    states.on('booted', onState)
    states.on('thawed', onState)
    ws.once('close', onClose)
    if (states.status(sprite) === 'running') done(true)
  })
}

async function write(api: ModuleAPI, fs: FsService, ctx: RequestContext): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const p = fsParams(ctx.query)
  const length = ctx.req.headers['content-length']
  const args = {
    path: resolveFsPath(p('path'), p('workingDir')),
    mode: parseFsMode(p('mode')),
    mkdirParents: parseFsBool(p('mkdirParents') ?? p('mkdir'), 'mkdirParents', true),
    size: length === undefined ? undefined : Number(length),
  }
  const call = { asRoot: parseFsBool(p('asRoot'), 'asRoot') }
  sendJSON(ctx.res, 200, await fs.write(sprite, args, ctx.req, call))
}

async function jsonOp(
  api: ModuleAPI,
  fs: FsService,
  ctx: RequestContext,
  op: FsJSONOp,
  hasBody: boolean,
): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const p = fsParams(ctx.query, hasBody ? await readBody(api, ctx) : {})
  const args = ARGS[op](p)
  const answer = await fs.run(sprite, op, args, { asRoot: parseFsBool(p('asRoot'), 'asRoot') })
  sendJSON(ctx.res, 200, answer)
}

/** Helper arguments of each JSON operation, from the request's parameters. */
const ARGS: Record<FsJSONOp, (p: FsParams) => Record<string, unknown>> = {
  list: (p) => ({
    path: resolveFsPath(p('path'), p('workingDir')),
    recursive: parseFsBool(p('recursive'), 'recursive'),
    pattern: typeof p('pattern') === 'string' && p('pattern') !== '' ? p('pattern') : undefined,
  }),
  delete: (p) => ({
    path: resolveFsPath(p('path'), p('workingDir')),
    recursive: parseFsBool(p('recursive'), 'recursive'),
  }),
  rename: (p) => ({
    source: resolveFsPath(p('source'), p('workingDir'), 'source'),
    dest: resolveFsPath(p('dest'), p('workingDir'), 'dest'),
  }),
  copy: (p) => ({
    source: resolveFsPath(p('source'), p('workingDir'), 'source'),
    dest: resolveFsPath(p('dest'), p('workingDir'), 'dest'),
    recursive: parseFsBool(p('recursive'), 'recursive'),
    preserveAttrs: parseFsBool(p('preserveAttrs'), 'preserveAttrs'),
  }),
  chmod: (p) => {
    const mode = parseFsMode(p('mode'))
    if (mode === undefined) throw fsInvalid('mode is required')
    const path = resolveFsPath(p('path'), p('workingDir'))
    return { path, mode, recursive: parseFsBool(p('recursive'), 'recursive') }
  },
  chown: (p) => {
    const uid = parseFsOwner(p('uid'), 'uid')
    const gid = parseFsOwner(p('gid'), 'gid')
    if (uid === null && gid === null) throw fsInvalid('uid or gid is required')
    const path = resolveFsPath(p('path'), p('workingDir'))
    return { path, uid, gid, recursive: parseFsBool(p('recursive'), 'recursive') }
  },
}

async function readBody(api: ModuleAPI, ctx: RequestContext): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = await readJSON(ctx.req, api.config.maxBodyBytes)
  } catch (err) {
    throw fsInvalid((err as Error).message)
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw fsInvalid('the request body must be a JSON object')
  return body as Record<string, unknown>
}
