import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { UpgradeContext } from '../http/context.ts'
import type { ModuleAPI, ServerModule } from '../module-api.ts'
import { resolveInSprite } from './resolve-in-sprite.ts'
import type { ConnectorHost } from './sprite-connector.ts'
import type { HoldActivity } from './url-proxy.ts'

const INIT_TIMEOUT_MS = 10_000
const KEEPALIVE_MS = 15_000

export interface TCPProxyDeps {
  host: ConnectorHost
  hold?: HoldActivity
}

interface Target {
  host: string
  port: number
}

/** Open proxy sockets by sprite id. */
type OpenSockets = Map<string, Set<WebSocket>>

/**
 * `WS /v1/sprites/{name}/proxy` (§9.1): JSON init, `connected` reply, raw relay. When the
 * sprite stops (deleted, restored, gone cold) its sockets close with 1001 and the host's reason.
 */
export function tcpProxyModule(deps: TCPProxyDeps): ServerModule {
  return (api) => {
    const open: OpenSockets = new Map()
    deps.host.on('stopped', (spriteID, reason) => {
      for (const ws of open.get(spriteID) ?? []) goingAway(ws, reason)
    })
    api.upgrade('/v1/sprites/:name/proxy', (ctx, socket, head) =>
      proxy(api, deps, open, ctx, socket, head),
    )
  }
}

async function proxy(
  api: ModuleAPI,
  deps: TCPProxyDeps,
  open: OpenSockets,
  ctx: UpgradeContext,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
  const ws = await api.acceptWebSocket(ctx, socket, head)
  track(open, sprite.id, ws)
  const release = deps.hold?.(sprite.id)
  ws.once('close', () => release?.())
  const fromQuery = ctx.query.get('port')
  if (fromQuery) ws.pause()
  const target = fromQuery
    ? parseTarget({ host: ctx.query.get('host') ?? 'localhost', port: Number(fromQuery) })
    : await firstMessage(ws)
  if (typeof target === 'string') {
    ws.resume()
    return ws.close(1003, target)
  }
  const label = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`
  let tcp: Duplex
  try {
    const sandbox = await deps.host.ensureRunning(sprite)
    tcp = await sandbox.connect(await resolveInSprite(sandbox, target.host), target.port)
  } catch (err) {
    ctx.log.info({ err, target: label }, 'proxy connect failed')
    if (ws.readyState !== ws.OPEN) return
    ws.resume()
    ws.send(JSON.stringify({ status: 'error', error: (err as Error).message }))
    return ws.close(1011, 'connect failed')
  }
  if (ws.readyState !== ws.OPEN) return void tcp.destroy()
  ws.send(JSON.stringify({ status: 'connected', target: label }))
  relay(ws, tcp)
}

/** Keeps `ws` in `open` under its sprite until it closes. */
function track(open: OpenSockets, spriteID: string, ws: WebSocket): void {
  const set = open.get(spriteID) ?? new Set<WebSocket>()
  open.set(spriteID, set.add(ws))
  ws.once('close', () => {
    set.delete(ws)
    if (set.size === 0 && open.get(spriteID) === set) open.delete(spriteID)
  })
}

/** Closes with 1001 (RFC 6455 "going away"); the relay's own 1000 then finds it closing. */
function goingAway(ws: WebSocket, reason: string): void {
  if (ws.readyState !== ws.OPEN) return
  ws.resume()
  ws.close(1001, reason.slice(0, 120))
}

function relay(ws: WebSocket, tcp: Duplex): void {
  let idle = setTimeout(keepalive, KEEPALIVE_MS)
  function keepalive() {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.alloc(0))
    idle = setTimeout(keepalive, KEEPALIVE_MS)
  }
  tcp.on('data', (d: Buffer) => {
    idle.refresh()
    ws.send(d)
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      tcp.pause()
      const resume = () => (ws.bufferedAmount > 1024 * 1024 ? setTimeout(resume, 5) : tcp.resume())
      setTimeout(resume, 5)
    }
  })
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary && data.length > 0 && !tcp.write(data)) {
      ws.pause()
      tcp.once('drain', () => ws.resume())
    }
  })
  const end = () => {
    clearTimeout(idle)
    tcp.destroy()
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000)
  }
  tcp.on('end', end)
  tcp.on('close', end)
  tcp.on('error', end)
  ws.on('close', end)
  ws.resume()
}

function parseTarget(raw: unknown): Target | string {
  if (raw === null || typeof raw !== 'object') return 'Expected JSON initialization message'
  const { host, port } = raw as { host?: unknown; port?: unknown }
  const p = typeof port === 'string' ? Number(port) : port
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
    return 'Invalid port number'
  }
  const h = typeof host === 'string' && host !== '' ? host.replace(/^\[(.*)\]$/, '$1') : 'localhost'
  return { host: h, port: p }
}

/** The first text frame as a target, or the close reason. */
function firstMessage(ws: WebSocket): Promise<Target | string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('Expected JSON initialization message'), INIT_TIMEOUT_MS)
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer)
      ws.pause()
      try {
        resolve(parseTarget(JSON.parse(data.toString('utf8'))))
      } catch {
        resolve('Expected JSON initialization message')
      }
    })
  })
}
