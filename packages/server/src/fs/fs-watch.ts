import type { SandboxProcess } from '@sprites/runtime'
import type { RawData, WebSocket } from 'ws'
import type { Logger } from '../logger.ts'
import { type FsSandbox, helperIdentity } from './fs-helper.ts'
import { resolveFsPath } from './fs-params.ts'

/** The watcher inside every sprite (packages/runtime/sprite-bin/sprite-fswatch). */
export const FS_WATCHER_PATH = '/.sprite/bin/sprite-fswatch'
/** WebSocket ping interval of a watch socket. */
export const WATCH_PING_MS = 15_000
/** Events are dropped (and counted) while the socket has more than this queued for the client. */
export const WATCH_MAX_BUFFERED = 1 << 20
/** A watcher line longer than this ends the watch (the watcher misbehaves). */
const MAX_LINE = 64 << 10
const SIGKILL = 9
const EVENTS = new Set(['create', 'write', 'remove', 'rename', 'chmod'])

/** A running sandbox as the watch uses it: spawn, and `exit` when it stops. */
export interface FsWatchSandbox extends FsSandbox {
  once?(event: 'exit', fn: () => void): unknown
  off?(event: 'exit', fn: () => void): unknown
}

/** Starts the watcher process as user `sprite` (or root). */
export function spawnFsWatcher(sandbox: FsSandbox, asRoot: boolean): Promise<SandboxProcess> {
  return sandbox.spawn({
    argv: ['sprite-fswatch'],
    path: FS_WATCHER_PATH,
    ...helperIdentity(asRoot),
  })
}

/**
 * Turns a client frame into a watcher command (paths made absolute against `workingDir`), or
 * an error message for the client.
 */
export function watchCommand(
  text: string,
): { cmd: Record<string, unknown> } | { error: string; path: string } {
  let msg: Record<string, unknown>
  try {
    msg = JSON.parse(text) as Record<string, unknown>
  } catch {
    return { error: 'invalid message: not JSON', path: '' }
  }
  if (msg === null || typeof msg !== 'object') return { error: 'invalid message', path: '' }
  if (msg.type !== 'subscribe' && msg.type !== 'unsubscribe')
    return { error: `unknown message type ${JSON.stringify(msg.type)}`, path: '' }
  if (!Array.isArray(msg.paths) || msg.paths.length === 0)
    return { error: 'paths must be a non-empty array', path: '' }
  const paths: string[] = []
  for (const p of msg.paths) {
    try {
      paths.push(resolveFsPath(p, msg.workingDir))
    } catch (err) {
      return { error: (err as Error).message, path: typeof p === 'string' ? p : '' }
    }
  }
  return { cmd: { cmd: msg.type, paths, recursive: msg.recursive === true } }
}

/** A watcher line as a wire message with only its known fields, or null. */
export function watchMessage(line: string): Record<string, unknown> | null {
  let m: Record<string, unknown>
  try {
    m = JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  if (m?.type === 'event' && EVENTS.has(str(m.event)))
    return {
      type: 'event',
      event: m.event,
      path: str(m.path),
      timestamp: str(m.timestamp),
      size: typeof m.size === 'number' ? m.size : 0,
      isDir: m.isDir === true,
    }
  if (m?.type === 'subscribed' && Array.isArray(m.paths))
    return { type: 'subscribed', paths: m.paths.filter((p) => typeof p === 'string') }
  if (m?.type === 'error') return { type: 'error', message: str(m.message), path: str(m.path) }
  return null
}

/**
 * Binds a watch socket to its watcher process until either ends: client frames become watcher
 * commands, watcher lines become frames. While the client is slow (more than
 * {@link WATCH_MAX_BUFFERED} queued) events are dropped and then reported as one error. The
 * socket closes with 1001 when the sprite stops; closing it kills the watcher.
 */
export function bindWatch(
  ws: WebSocket,
  proc: SandboxProcess,
  sandbox: FsWatchSandbox,
  log: Logger,
  pingMs = WATCH_PING_MS,
): void {
  const send = slowClientSender(ws)
  let exited = false
  const close = (code: number, reason: string) => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
  }
  onLines(
    proc,
    (line) => {
      const msg = watchMessage(line)
      if (msg) send(msg)
    },
    () => close(1011, 'watcher output too long'),
  )
  let stderr = ''
  proc.on('stderr', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8')
  })
  const onSandboxExit = () => close(1001, 'sprite stopped')
  sandbox.once?.('exit', onSandboxExit)
  proc.once('exit', (code: number) => {
    exited = true
    if (code !== 0 && stderr !== '') log.warn({ code, stderr }, 'fs watcher failed')
    close(1001, 'watch ended: the sprite stopped')
  })
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return
    const res = watchCommand(data.toString())
    if ('error' in res) send({ type: 'error', message: res.error, path: res.path })
    else if (!exited) proc.write(Buffer.from(`${JSON.stringify(res.cmd)}\n`))
  })
  const ping = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), pingMs)
  const end = () => {
    clearInterval(ping)
    sandbox.off?.('exit', onSandboxExit)
    if (!exited) proc.signal(SIGKILL)
  }
  ws.once('close', end)
  ws.on('error', () => ws.terminate())
}

/** Sends frames to `ws`; events are dropped and counted while the client is slow. */
function slowClientSender(ws: WebSocket): (msg: Record<string, unknown>) => void {
  let dropped = 0
  return (msg) => {
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > WATCH_MAX_BUFFERED && msg.type === 'event') {
      dropped++
      return
    }
    if (dropped > 0 && ws.bufferedAmount < WATCH_MAX_BUFFERED / 2) {
      ws.send(JSON.stringify({ type: 'error', message: droppedMessage(dropped), path: '' }))
      dropped = 0
    }
    ws.send(JSON.stringify(msg))
  }
}

/** Calls `onLine` for each stdout line; a line over {@link MAX_LINE} kills the process. */
function onLines(proc: SandboxProcess, onLine: (line: string) => void, onTooLong: () => void) {
  let pending = ''
  proc.on('stdout', (d: Buffer) => {
    pending += d.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) onLine(line)
    if (pending.length > MAX_LINE) {
      pending = ''
      proc.signal(SIGKILL)
      onTooLong()
    }
  })
}

function droppedMessage(n: number): string {
  return `${n} event${n === 1 ? '' : 's'} dropped: the client reads too slowly`
}
