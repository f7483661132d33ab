import { SpritesError } from '@sprites/protocol'
import type { ExecSession } from './session.ts'

const MAX_ID = 999_999
const ENDED_TTL_MS = 5 * 60_000

interface Ended {
  exitCode: number
  at: number
}

/**
 * Sessions of one sprite: ids from 1, skipping live ones, below 1 000 000 (D19); ended ids are
 * remembered for 5 minutes so kill can answer 410.
 */
export class SessionRegistry {
  readonly maxSessions: number
  #live = new Map<number, ExecSession>()
  #ended = new Map<number, Ended>()
  #next = 1
  /** The sprite is warm: session timers stand still. */
  #paused = false
  #now: () => number

  constructor(opts: { maxSessions?: number; now?: () => number } = {}) {
    this.maxSessions = opts.maxSessions ?? 256
    this.#now = opts.now ?? Date.now
  }

  /** Reserves the next free id. @throws SpritesError conflict when the sprite has too many sessions */
  allocate(): number {
    if (this.#live.size >= this.maxSessions) {
      throw new SpritesError(
        'conflict',
        `too many exec sessions on this sprite (limit ${this.maxSessions}); kill some first`,
      )
    }
    for (;;) {
      const id = this.#next
      this.#next = this.#next >= MAX_ID ? 1 : this.#next + 1
      if (!this.#live.has(id)) {
        this.#ended.delete(id)
        return id
      }
    }
  }

  add(session: ExecSession): void {
    if (this.#paused) session.pauseTimers()
    this.#live.set(session.id, session)
    session.once('exit', (code: number) => {
      this.#live.delete(session.id)
      this.#ended.set(session.id, { exitCode: code, at: this.#now() })
      this.#prune()
    })
  }

  get(id: number): ExecSession | undefined {
    return this.#live.get(id)
  }

  /** Exit code of a session that ended within the last 5 minutes. */
  ended(id: number): number | undefined {
    this.#prune()
    return this.#ended.get(id)?.exitCode
  }

  list(): ExecSession[] {
    return [...this.#live.values()].sort((a, b) => a.created.getTime() - b.created.getTime())
  }

  /** Stops every session's timers (the sprite went warm); sessions added later start paused. */
  pauseTimers(): void {
    this.#paused = true
    for (const s of this.#live.values()) s.pauseTimers()
  }

  /** Continues every session's timers (the sprite thawed). */
  resumeTimers(): void {
    this.#paused = false
    for (const s of this.#live.values()) s.resumeTimers()
  }

  /** Aborts every live session (sprite stopping); the next sandbox starts with running timers. */
  abortAll(reason: string): void {
    this.#paused = false
    for (const s of this.#live.values()) s.abort(reason)
  }

  #prune(): void {
    const limit = this.#now() - ENDED_TTL_MS
    for (const [id, e] of this.#ended) if (e.at < limit) this.#ended.delete(id)
  }
}
