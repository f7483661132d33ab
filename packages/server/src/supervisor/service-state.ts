import type { ServiceDefinition } from './service-definition.ts'

/** `state.status` of a service (§7). */
export type ServiceStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed'

/** Live state of one service. Times are Unix milliseconds. */
export interface ServiceState {
  status: ServiceStatus
  pid?: number
  startedAt?: number
  error?: string
  restartCount: number
  nextRestartAt?: number
}

/** An event of a service as streamed by create/start/stop/restart/logs (§7), minus `timestamp`. */
export type ServiceEvent =
  | { type: 'started' }
  | { type: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; exit_code: number }
  | { type: 'error'; data: string }
  | { type: 'stopping' }
  | { type: 'stopped'; exit_code: number | null }

/** An event with its integer Unix-millisecond `timestamp`. */
export type TimedServiceEvent = ServiceEvent & { timestamp: number }

/** Crash-restart delay for the k-th consecutive crash: min(60 s, 1 s × 2^(k−1)). */
export function restartDelayMs(k: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, k - 1))
}

/** Uptime after which the consecutive-crash count starts again. */
export const STABLE_UPTIME_MS = 60_000

/** ServiceWithState on the wire. */
export function serviceToWire(def: ServiceDefinition, state: ServiceState): object {
  return {
    name: def.name,
    cmd: def.cmd,
    args: def.args,
    env: def.env,
    ...(def.dir !== undefined ? { dir: def.dir } : {}),
    needs: def.needs,
    http_port: def.httpPort,
    state: {
      name: def.name,
      status: state.status,
      ...(state.pid !== undefined ? { pid: state.pid } : {}),
      ...(state.startedAt !== undefined ? { started_at: iso(state.startedAt) } : {}),
      ...(state.error !== undefined ? { error: state.error } : {}),
      restart_count: state.restartCount,
      ...(state.nextRestartAt !== undefined ? { next_restart_at: iso(state.nextRestartAt) } : {}),
    },
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
