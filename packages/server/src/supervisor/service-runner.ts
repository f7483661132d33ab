import { EventEmitter } from 'node:events'
import { SPRITE_GID, SPRITE_HOME, SPRITE_UID } from '@sprites/protocol'
import type { Sandbox, SandboxProcess } from '@sprites/runtime'
import { buildExecEnv } from '../exec/exec-request.ts'
import { SUDO_GID } from '../exec/exec-service.ts'
import type { Logger } from '../logger.ts'
import type { LogFile } from './log-file.ts'
import type { ServiceDefinition } from './service-definition.ts'
import { formatLogLine, LineSplitter, LogBuffer, type LogStream } from './service-log.ts'
import {
  restartDelayMs,
  type ServiceEvent,
  type ServiceState,
  STABLE_UPTIME_MS,
  type TimedServiceEvent,
} from './service-state.ts'

const SIGTERM = 15
const SIGKILL = 9

export interface ServiceRunnerOptions {
  sandbox: Sandbox
  /** The sprite's `environment` (D42), below the service's own `env`. */
  spriteEnv: Readonly<Record<string, string>>
  logFile: LogFile
  log: Logger
  now?: () => number
}

interface Running {
  proc: SandboxProcess
  startedAt: number
  stopRequested: boolean
  lastStderr: string
  exited: Promise<number>
}

/**
 * One supervised service: spawns it as `sprite` in its own process group with stdin /dev/null,
 * logs its output, restarts it after a crash with exponential backoff, stops it on request.
 *
 * Events: `event` (TimedServiceEvent) for every log-stream event.
 */
export class ServiceRunner extends EventEmitter {
  def: ServiceDefinition
  readonly logs = new LogBuffer()
  readonly #o: ServiceRunnerOptions
  readonly #now: () => number
  #state: ServiceState = { status: 'stopped', restartCount: 0 }
  #run: Running | undefined
  #starting: Promise<void> | undefined
  #crashes = 0
  #timer: NodeJS.Timeout | undefined
  #disposed = false

  constructor(def: ServiceDefinition, o: ServiceRunnerOptions) {
    super()
    this.def = def
    this.#o = o
    this.#now = o.now ?? Date.now
  }

  get state(): ServiceState {
    return { ...this.#state }
  }

  get isRunning(): boolean {
    return this.#state.status === 'running' || this.#state.status === 'starting'
  }

  /** Explicit start: resets the restart counters; no-op when already running. */
  async start(): Promise<void> {
    if (this.#starting !== undefined) return this.#starting
    if (this.#run) return
    this.#clearTimer()
    this.#crashes = 0
    this.#state = { status: 'stopped', restartCount: 0 }
    await this.#spawn()
  }

  /**
   * SIGTERM to the process group, SIGKILL after `timeoutMs`. Resolves with the exit code, or
   * null when nothing was running (a pending restart is cancelled).
   */
  async stop(timeoutMs: number): Promise<number | null> {
    await this.#starting
    this.#clearTimer()
    const run = this.#run
    if (!run) {
      this.#state = { status: 'stopped', restartCount: this.#state.restartCount }
      return null
    }
    if (!run.stopRequested) {
      run.stopRequested = true
      this.#state = { ...this.#state, status: 'stopping' }
      this.#emit({ type: 'stopping' })
      run.proc.signal(SIGTERM)
    }
    const kill = setTimeout(() => run.proc.signal(SIGKILL), timeoutMs)
    const code = await run.exited
    clearTimeout(kill)
    return code
  }

  signal(signo: number): void {
    this.#run?.proc.signal(signo)
  }

  /** The sprite is gone: forget the process without treating its end as a crash. */
  dispose(): void {
    this.#disposed = true
    this.#clearTimer()
    this.#run = undefined
    this.#state = { status: 'stopped', restartCount: this.#state.restartCount }
  }

  #spawn(): Promise<void> {
    this.#state = { status: 'starting', restartCount: this.#state.restartCount }
    this.#starting = this.#doSpawn().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async #doSpawn(): Promise<void> {
    const d = this.def
    const env = Object.entries(d.env).map(([k, v]) => `${k}=${v}`)
    let proc: SandboxProcess
    try {
      proc = await this.#o.sandbox.spawn({
        argv: [d.cmd, ...d.args],
        path: d.cmd,
        env: buildExecEnv(this.#o.spriteEnv, env, false),
        cwd: d.dir ?? SPRITE_HOME,
        uid: SPRITE_UID,
        gid: SPRITE_GID,
        groups: [SUDO_GID],
        stdin: false,
      })
    } catch (err) {
      if (this.#disposed) return
      this.#emit({ type: 'error', data: `could not start: ${(err as Error).message}` })
      this.#crashed(`could not start: ${(err as Error).message}`)
      return
    }
    if (this.#disposed) return
    const startedAt = this.#now()
    const exited = new Promise<number>((resolve) => proc.once('exit', (c: number) => resolve(c)))
    const run: Running = { proc, startedAt, stopRequested: false, lastStderr: '', exited }
    this.#run = run
    this.#state = {
      status: 'running',
      pid: proc.pid,
      startedAt,
      restartCount: this.#state.restartCount,
    }
    this.#emit({ type: 'started' })
    this.#pipe(run, 'stdout')
    this.#pipe(run, 'stderr')
    void exited.then((code) => this.#onExit(run, code))
  }

  #pipe(run: Running, stream: LogStream): void {
    const split = new LineSplitter()
    const line = (data: string) => {
      if (stream === 'stderr') run.lastStderr = data
      this.#logLine(stream, data)
    }
    run.proc.on(stream, (chunk: Buffer) => {
      for (const l of split.push(chunk)) line(l)
    })
    run.proc.once('exit', () => {
      for (const l of split.flush()) line(l)
    })
  }

  #logLine(stream: LogStream, data: string): void {
    const entry = { timestamp: this.#now(), stream, data }
    this.logs.push(entry)
    this.#o.logFile.write(formatLogLine(entry))
    this.emit('event', { type: stream, data, timestamp: entry.timestamp })
  }

  #onExit(run: Running, code: number): void {
    if (this.#disposed || this.#run !== run) return
    this.#run = undefined
    this.#emit({ type: 'exit', exit_code: code })
    if (run.stopRequested) {
      this.#state = { status: 'stopped', restartCount: this.#state.restartCount }
      this.#emit({ type: 'stopped', exit_code: code })
      return
    }
    const uptime = this.#now() - run.startedAt
    if (uptime >= STABLE_UPTIME_MS) this.#crashes = 0
    const failedToRun = (code === 127 || code === 126) && uptime < 2000
    const error = failedToRun && run.lastStderr ? run.lastStderr : `exited with code ${code}`
    if (failedToRun) this.#emit({ type: 'error', data: error })
    this.#crashed(error)
  }

  #crashed(error: string): void {
    this.#crashes++
    const delay = restartDelayMs(this.#crashes)
    const at = this.#now() + delay
    this.#state = {
      status: 'failed',
      error,
      restartCount: this.#state.restartCount,
      nextRestartAt: at,
    }
    this.#o.log.info(
      { service: this.def.name, error, delayMs: delay },
      'service crashed; restarting',
    )
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#state = { ...this.#state, restartCount: this.#state.restartCount + 1 }
      void this.#spawn()
    }, delay)
    this.#timer.unref()
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #emit(event: ServiceEvent): void {
    this.emit('event', { ...event, timestamp: this.#now() } satisfies TimedServiceEvent)
  }
}
