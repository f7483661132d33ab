import { EventEmitter } from 'node:events'
import type { SessionInfoMessage, SessionWire } from '@sprites/protocol'
import type { SandboxProcess } from '@sprites/runtime'
import { PausableTimer } from './pausable-timer.ts'
import { RateMeter } from './rate-meter.ts'
import { Scrollback } from './scrollback.ts'

/** A connection that receives a session's output: an exec WebSocket or an HTTP exec response. */
export interface ExecClient {
  output(stream: 1 | 2, data: Buffer): void
  /** Runs the exit sequence (§3.7) and ends the connection. */
  exit(code: number): void
  /** Ends the connection without an exit (sprite stopped, deleted, restored, shutdown). */
  abort(reason: string): void
}

export interface SessionOptions {
  id: number
  process: SandboxProcess
  readonly command: string
  workdir: string
  tty: { rows: number; cols: number } | null
  /** 0 = no limit. */
  maxRunAfterDisconnectMs: number
  /** Grace between SIGTERM and SIGKILL when the disconnect timer fires. */
  killGraceMs?: number
  now?: () => number
}

const SIGTERM = 15
const SIGKILL = 9

/**
 * One process started through exec, with its attached clients, scrollback and lifetime rules
 * (§3.8, §3.9). Events: `exit` (code), `activity`.
 */
export class ExecSession extends EventEmitter {
  readonly id: number
  command: string
  readonly workdir: string
  readonly tty: boolean
  readonly created: Date
  readonly process: SandboxProcess
  readonly scrollback = new Scrollback()
  rows: number
  cols: number
  lastActivity: Date | null = null
  exitCode: number | null = null
  #clients = new Set<ExecClient>()
  #meter: RateMeter
  #mradMs: number
  #killGraceMs: number
  #detachTimer: PausableTimer | null = null
  #killTimer: PausableTimer | null = null
  /** The sprite is warm: its time stands still, and so do the session's timers. */
  #paused = false
  #now: () => number

  constructor(o: SessionOptions) {
    super()
    this.id = o.id
    this.process = o.process
    this.command = o.command
    this.workdir = o.workdir
    this.tty = o.tty !== null
    this.rows = o.tty?.rows ?? 0
    this.cols = o.tty?.cols ?? 0
    this.#mradMs = o.maxRunAfterDisconnectMs
    this.#killGraceMs = o.killGraceMs ?? 10_000
    this.#now = o.now ?? Date.now
    this.#meter = new RateMeter(10, this.#now)
    this.created = new Date(this.#now())
    o.process.on('stdout', (d: Buffer) => this.#onOutput(1, d))
    o.process.on('stderr', (d: Buffer) => this.#onOutput(this.tty ? 1 : 2, d))
    o.process.once('exit', (code: number) => this.#onExit(code))
  }

  get isRunning(): boolean {
    return this.exitCode === null
  }

  get clientCount(): number {
    return this.#clients.size
  }

  info(isOwner: boolean): SessionInfoMessage {
    return {
      type: 'session_info',
      session_id: this.id,
      command: this.command,
      created: Math.floor(this.created.getTime() / 1000),
      cols: this.tty ? this.cols : 0,
      rows: this.tty ? this.rows : 0,
      is_owner: isOwner,
      tty: this.tty,
    }
  }

  toWire(): SessionWire {
    return {
      id: this.id,
      command: this.command,
      workdir: this.workdir,
      created: this.created.toISOString(),
      ...(this.lastActivity ? { last_activity: this.lastActivity.toISOString() } : {}),
      bytes_per_second: this.#meter.rate(),
      is_active: this.#clients.size > 0,
      tty: this.tty,
    }
  }

  /** Adds a client; replays the scrollback to it when `replay` (attach). */
  attach(client: ExecClient, replay: boolean): void {
    this.#clearDetachTimer()
    if (replay) for (const c of this.scrollback.chunks()) client.output(c.stream, c.data)
    this.#clients.add(client)
    this.emit('clients', this.#clients.size)
  }

  detach(client: ExecClient): void {
    if (!this.#clients.delete(client)) return
    this.emit('clients', this.#clients.size)
    if (this.#clients.size === 0 && this.isRunning && this.#mradMs > 0) {
      this.#detachTimer = this.#timer(() => this.#terminate(), this.#mradMs)
    }
  }

  write(data: Buffer): void {
    if (!this.isRunning) return
    this.#touch()
    this.process.write(data)
  }

  endStdin(): void {
    if (this.isRunning) this.process.endStdin()
  }

  resize(rows: number | undefined, cols: number | undefined): void {
    if (!this.tty || !this.isRunning) return
    if (rows && rows > 0 && rows <= 1000) this.rows = rows
    if (cols && cols > 0 && cols <= 1000) this.cols = cols
    this.process.resize(this.rows, this.cols)
  }

  /**
   * Stops the `max_run_after_disconnect` countdown (and a pending SIGKILL after its SIGTERM)
   * while the sprite is warm; {@link resumeTimers} continues them with the time they had left.
   */
  pauseTimers(): void {
    this.#paused = true
    this.#detachTimer?.pause()
    this.#killTimer?.pause()
  }

  /** Continues the timers stopped by {@link pauseTimers} (the sprite thawed). */
  resumeTimers(): void {
    this.#paused = false
    this.#detachTimer?.resume()
    this.#killTimer?.resume()
  }

  signal(signo: number): void {
    if (this.isRunning) this.process.signal(signo)
  }

  /** Ends every client without an exit and kills the process (sprite going away). */
  abort(reason: string): void {
    for (const c of this.#clients) c.abort(reason)
    this.#clients.clear()
    this.emit('clients', 0)
    this.signal(SIGKILL)
  }

  #onOutput(stream: 1 | 2, data: Buffer): void {
    this.#touch()
    this.#meter.add(data.length)
    this.scrollback.push(stream, data)
    for (const c of this.#clients) c.output(stream, data)
    this.emit('activity')
  }

  #onExit(code: number): void {
    this.exitCode = code
    this.#clearDetachTimer()
    this.#killTimer?.cancel()
    for (const c of this.#clients) c.exit(code)
    this.#clients.clear()
    this.emit('exit', code)
  }

  #terminate(): void {
    this.#detachTimer = null
    this.signal(SIGTERM)
    this.#killTimer = this.#timer(() => this.signal(SIGKILL), this.#killGraceMs)
  }

  #timer(fn: () => void, ms: number): PausableTimer {
    return new PausableTimer(fn, ms, { paused: this.#paused, now: this.#now })
  }

  #clearDetachTimer(): void {
    this.#detachTimer?.cancel()
    this.#detachTimer = null
  }

  #touch(): void {
    this.lastActivity = new Date(this.#now())
  }
}
