import { SPRITE_GID, SPRITE_UID } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import type { ActivityReporter } from '../lifecycle/activity.ts'
import { buildExecEnv, type ExecRequest } from './exec-request.ts'
import { ExecSession } from './session.ts'
import { trackSessionActivity } from './session-activity.ts'
import { SessionRegistry } from './session-registry.ts'

/** Group `sudo` in the base image: the exec user may use passwordless sudo (D39). */
export const SUDO_GID = 27

/** What exec needs from the runtime side of the server. */
export interface SandboxProvider {
  /** Wakes the sprite when needed and returns its running sandbox. */
  ensureRunning(sprite: SpriteRecord): Promise<Sandbox>
  /** Resolves a program name the way the sprite's PATH would; returns the input when unknown. */
  resolveProgram?(sprite: SpriteRecord, program: string, pathVar: string): Promise<string>
}

export interface ExecServiceOptions {
  provider: SandboxProvider
  maxSessionsPerSprite?: number
  now?: () => number
  /** Told about attached clients and output, which keep the sprite running. */
  activity?: ActivityReporter
}

/** Starts processes in sprites and keeps their sessions (§3). */
export class ExecService {
  readonly #provider: SandboxProvider
  readonly #registries = new Map<string, SessionRegistry>()
  readonly #maxSessions: number | undefined
  readonly #now: (() => number) | undefined
  readonly #activity: ActivityReporter | undefined

  constructor(o: ExecServiceOptions) {
    this.#provider = o.provider
    this.#maxSessions = o.maxSessionsPerSprite
    this.#now = o.now
    this.#activity = o.activity
  }

  /** Wakes the sprite (attach, kill: a warm sprite's processes are frozen). */
  async wake(sprite: SpriteRecord): Promise<void> {
    await this.#provider.ensureRunning(sprite)
  }

  /** The session registry of a sprite (created on first use). */
  sessions(spriteID: string): SessionRegistry {
    let r = this.#registries.get(spriteID)
    if (!r) {
      r = new SessionRegistry({ maxSessions: this.#maxSessions, now: this.#now })
      this.#registries.set(spriteID, r)
    }
    return r
  }

  /** Starts `req` in the sprite, waking it first. */
  async start(sprite: SpriteRecord, req: ExecRequest): Promise<ExecSession> {
    const registry = this.sessions(sprite.id)
    const sandbox = await this.#provider.ensureRunning(sprite)
    const env = buildExecEnv(sprite.environment, req.env, req.tty)
    const program = await this.#resolveProgram(sprite, req.path, env)
    const id = registry.allocate()
    const process = await sandbox.spawn({
      argv: req.argv,
      path: req.path,
      env,
      cwd: req.dir,
      uid: SPRITE_UID,
      gid: SPRITE_GID,
      groups: [SUDO_GID],
      tty: req.tty ? { rows: req.rows, cols: req.cols } : undefined,
      stdin: req.stdin,
    })
    const session = new ExecSession({
      id,
      process,
      command: [program, ...req.argv.slice(1)].join(' '),
      workdir: req.dir,
      tty: req.tty ? { rows: req.rows, cols: req.cols } : null,
      maxRunAfterDisconnectMs: req.maxRunAfterDisconnectMs,
      now: this.#now,
    })
    registry.add(session)
    if (this.#activity) trackSessionActivity(sprite.id, session, this.#activity)
    return session
  }

  /**
   * Stops the sessions' `max_run_after_disconnect` timers of a sprite that went warm (host event
   * `warm`): a frozen process cannot use its time. {@link resumeTimers} on `thawed`.
   */
  pauseTimers(spriteID: string): void {
    this.sessions(spriteID).pauseTimers()
  }

  /** Continues the timers stopped by {@link pauseTimers}. */
  resumeTimers(spriteID: string): void {
    this.#registries.get(spriteID)?.resumeTimers()
  }

  /** Ends every session of a sprite without an exit (it is stopping or being deleted). */
  abortAll(spriteID: string, reason: string): void {
    this.#registries.get(spriteID)?.abortAll(reason)
  }

  /** Ends every session of every sprite (server shutdown). */
  abortEverything(reason: string): void {
    for (const r of this.#registries.values()) r.abortAll(reason)
  }

  /** Forgets a deleted sprite. */
  forget(spriteID: string): void {
    this.abortAll(spriteID, 'sprite deleted')
    this.#registries.delete(spriteID)
  }

  /**
   * The absolute path the sprite's PATH gives a program name, for session listings; resolved
   * before the spawn, so no output can arrive while it is looked up. Unknown names stay as given.
   */
  async #resolveProgram(sprite: SpriteRecord, path: string, env: string[]): Promise<string> {
    if (path.includes('/') || !this.#provider.resolveProgram) return path
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? ''
    return this.#provider.resolveProgram(sprite, path, pathVar).catch(() => path)
  }
}
