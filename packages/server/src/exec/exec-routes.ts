import type { Duplex } from 'node:stream'
import { CAPABILITIES_HEADER, errors, type PortEventMessage, SpritesError } from '@sprites/protocol'
import type { WebSocket } from 'ws'
import { readJSON } from '../http/body.ts'
import type { RequestContext, UpgradeContext } from '../http/context.ts'
import { startNDJSON } from '../http/ndjson.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { ModuleAPI, ServerModule } from '../module-api.ts'
import { type ExecRequest, parseExecRequest } from './exec-request.ts'
import type { ExecService } from './exec-service.ts'
import { HttpExecClient } from './http-exec-client.ts'
import { killSession, parseKillRequest, parseSessionID, sessionForKill } from './kill-session.ts'
import type { ExecSession } from './session.ts'
import { WsExecClient } from './ws-exec-client.ts'

const ACCEPT = { headers: { [CAPABILITIES_HEADER]: 'signal' } }
const EXEC = '/v1/sprites/:name/exec'

/**
 * Sends `port_opened` / `port_closed` for the listeners of the session led by in-sprite pid
 * `leader` until the returned function is called (§3.6).
 */
export type FollowSessionPorts = (
  spriteID: string,
  leader: number,
  send: (msg: PortEventMessage) => void,
) => () => void

/** Exec, attach, sessions and kill (§3); port events on exec sockets when `ports` is given. */
export function execModule(exec: ExecService, ports?: FollowSessionPorts): ServerModule {
  return (api) => {
    api.upgrade(EXEC, (ctx, socket, head) => {
      const id = ctx.query.get('id') ?? ctx.query.get('session_id')
      return id === null
        ? startExec(api, exec, ctx, socket, head, ports)
        : attach(api, exec, ctx, socket, head, id, ports)
    })
    api.upgrade(`${EXEC}/:id`, (ctx, socket, head) =>
      attach(api, exec, ctx, socket, head, ctx.params.id ?? '', ports),
    )
    api.route('HEAD', EXEC, async (ctx) => {
      await api.sprites.get(ctx.org, ctx.params.name ?? '')
      sendEmpty(ctx.res, 200)
    })
    api.route('GET', EXEC, async (ctx) => {
      const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
      const sessions = exec
        .sessions(sprite.id)
        .list()
        .map((s) => s.toWire())
      sendJSON(ctx.res, 200, { sessions, count: sessions.length })
    })
    api.route('GET', `${EXEC}/:id`, async (ctx) => {
      const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
      const id = parseSessionID(ctx.params.id)
      if (id === null || !exec.sessions(sprite.id).get(id))
        throw errors.sessionNotFound(ctx.params.id ?? '')
      throw errors.invalid('attach to a session with a WebSocket upgrade')
    })
    api.route('POST', EXEC, (ctx) => httpExec(api, exec, ctx))
    api.route('POST', `${EXEC}/:id/kill`, (ctx) => kill(api, exec, ctx))
    api.onClose(() => exec.abortEverything('server shutting down'))
  }
}

async function startExec(
  api: ModuleAPI,
  exec: ExecService,
  ctx: UpgradeContext,
  socket: Duplex,
  head: Buffer,
  ports?: FollowSessionPorts,
): Promise<void> {
  const req = parseExecRequest(ctx.query)
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const ws = await api.acceptWebSocket(ctx, socket, head, ACCEPT)
  // Clients send stdin at once; hold it in the socket until the session exists.
  ws.pause()
  const keepalive = setInterval(() => ws.send(Buffer.alloc(0)), 15_000)
  let session: ExecSession
  try {
    session = await exec.start(sprite, req)
  } catch (err) {
    ctx.log.warn({ err }, 'exec failed to start')
    ws.resume()
    ws.close(1011, truncate((err as Error).message))
    return
  } finally {
    clearInterval(keepalive)
  }
  bindSocket(ws, session, true, req)
  if (ports) followPorts(ws, session, sprite.id, ports)
}

async function attach(
  api: ModuleAPI,
  exec: ExecService,
  ctx: UpgradeContext,
  socket: Duplex,
  head: Buffer,
  rawID: string,
  ports?: FollowSessionPorts,
): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const id = parseSessionID(rawID)
  const session = id === null ? undefined : exec.sessions(sprite.id).get(id)
  if (!session?.isRunning) throw errors.sessionNotFound(rawID)
  await exec.wake(sprite)
  const ws = await api.acceptWebSocket(ctx, socket, head, ACCEPT)
  ws.pause()
  if (!session.isRunning) {
    ws.resume()
    ws.close(1001, 'session ended')
    return
  }
  bindSocket(ws, session, false)
  if (ports) followPorts(ws, session, sprite.id, ports)
}

/** Port events of the session's processes on this socket until it closes or the session ends. */
function followPorts(
  ws: WebSocket,
  session: ExecSession,
  spriteID: string,
  ports: FollowSessionPorts,
): void {
  if (!session.isRunning) return
  const stop = ports(spriteID, session.process.pid, (msg) => {
    if (ws.readyState === ws.OPEN && session.isRunning) ws.send(JSON.stringify(msg))
  })
  ws.once('close', stop)
  session.once('exit', stop)
}

/** session_info first, then (for attach) the scrollback, then live output (§3.8, D21). */
function bindSocket(
  ws: WebSocket,
  session: ExecSession,
  isOwner: boolean,
  req?: ExecRequest,
): void {
  const client = new WsExecClient(ws, session)
  client.sendJSON(session.info(isOwner))
  session.attach(client, true)
  if (req && !req.stdin && !session.tty) session.endStdin()
  ws.resume()
}

async function httpExec(api: ModuleAPI, exec: ExecService, ctx: RequestContext): Promise<void> {
  for (const p of ['tty', 'id', 'detachable', 'cc']) {
    if (ctx.query.has(p))
      throw errors.invalid(`${p} is not supported by POST /exec; use the WebSocket`)
  }
  const req = parseExecRequest(ctx.query)
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const session = await exec.start(sprite, { ...req, maxRunAfterDisconnectMs: 10_000 })
  ctx.res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
  ctx.res.flushHeaders()
  const client = new HttpExecClient(ctx.res, session)
  session.attach(client, true)
  if (!req.stdin) {
    ctx.req.resume()
    return
  }
  ctx.req.on('data', (d: Buffer) => session.write(d))
  ctx.req.on('end', () => session.endStdin())
}

async function kill(api: ModuleAPI, exec: ExecService, ctx: RequestContext): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const body = await readBody(api, ctx)
  const req = parseKillRequest(ctx.query, body)
  const session = sessionForKill(exec.sessions(sprite.id), ctx.params.id ?? '')
  await exec.wake(sprite)
  const stream = startNDJSON(ctx.res)
  try {
    for await (const event of killSession(session, req)) stream.write(event)
  } catch (err) {
    stream.write({ type: 'error', message: (err as Error).message })
  }
  stream.end()
}

async function readBody(api: ModuleAPI, ctx: RequestContext): Promise<Record<string, unknown>> {
  const body = await readJSON(ctx.req, api.config.maxBodyBytes)
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SpritesError('invalid_argument', 'the request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

function truncate(s: string): string {
  return Buffer.byteLength(s) > 120 ? `${s.slice(0, 110)}…` : s
}
