import {
  formatDuration,
  type KillEvent,
  parseDuration,
  parseSignal,
  type Signal,
  SpritesError,
} from '@sprites/protocol'
import type { ExecSession } from './session.ts'
import type { SessionRegistry } from './session-registry.ts'

export interface KillRequest {
  signal: Signal
  timeoutMs: number
}

/**
 * Reads kill parameters from the query or a JSON body (D32): `signal` (default SIGTERM) and
 * `timeout` (duration or seconds, default 10s; 0 = signal only).
 * @throws SpritesError invalid_argument
 */
export function parseKillRequest(q: URLSearchParams, body: Record<string, unknown>): KillRequest {
  const rawSignal = q.get('signal') ?? (body.signal as string | number | undefined) ?? 'SIGTERM'
  const signal = parseSignal(rawSignal)
  if (!signal) {
    throw new SpritesError('invalid_argument', `unknown signal ${JSON.stringify(rawSignal)}`)
  }
  const rawTimeout = q.get('timeout') ?? (body.timeout as string | number | undefined) ?? '10s'
  return { signal, timeoutMs: parseDuration(rawTimeout, 'timeout') }
}

/**
 * Finds a live session for kill.
 * @throws SpritesError session_not_found (unknown id), session_exited (ended recently)
 */
export function sessionForKill(registry: SessionRegistry, rawID: string): ExecSession {
  const id = parseSessionID(rawID)
  const session = id === null ? undefined : registry.get(id)
  if (session) return session
  if (id !== null && registry.ended(id) !== undefined) {
    throw new SpritesError('session_exited', `session ${id} has already exited`)
  }
  throw new SpritesError('session_not_found', `session not found: ${rawID}`)
}

/** Parses a decimal session id; null when malformed. */
export function parseSessionID(raw: string | null | undefined): number | null {
  if (!raw || !/^\d{1,7}$/.test(raw)) return null
  return Number(raw)
}

/** The kill sequence of §3.11 as events. */
export async function* killSession(
  session: ExecSession,
  req: KillRequest,
): AsyncGenerator<KillEvent> {
  const pid = session.process.pid
  yield {
    type: 'signal',
    message: `Signaling ${req.signal.name} to process group ${pid}`,
    signal: req.signal.name,
    pid,
  }
  const exited = waitExit(session)
  session.signal(req.signal.number)
  if (req.timeoutMs === 0) {
    const code = await Promise.race([exited, delay(50).then(() => null)])
    yield code === null ? { type: 'complete' } : { type: 'complete', exit_code: code }
    return
  }
  const code = await Promise.race([exited, delay(req.timeoutMs).then(() => null)])
  if (code !== null) {
    yield { type: 'exited', message: 'Process exited' }
    yield { type: 'complete', exit_code: code }
    return
  }
  yield {
    type: 'timeout',
    message: `Timeout after ${formatDuration(req.timeoutMs)}, sending SIGKILL`,
  }
  session.signal(9)
  const killed = await Promise.race([exited, delay(5000).then(() => null)])
  if (killed === null) {
    yield { type: 'error', message: 'process did not exit after SIGKILL' }
    yield { type: 'complete' }
    return
  }
  yield { type: 'killed', message: 'Process killed' }
  yield { type: 'complete', exit_code: killed }
}

function waitExit(session: ExecSession): Promise<number> {
  if (session.exitCode !== null) return Promise.resolve(session.exitCode)
  return new Promise((resolve) => session.once('exit', resolve))
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
