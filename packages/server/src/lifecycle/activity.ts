import { EventEmitter } from 'node:events'

/**
 * How other parts of the server report a sprite's activity (docs/lifecycle.md): `hold` for
 * something that is open (a request, a WebSocket, a proxied connection, a live task) and keeps
 * the sprite running until released; `touch` for a single event (output of a detached session).
 */
export interface ActivityReporter {
  /** Marks the sprite busy until the returned release is called (idempotent). */
  hold(spriteID: string): () => void
  /** Resets the sprite's idle clock. */
  touch(spriteID: string): void
}

/**
 * Per-sprite activity: open holds and the time of the last activity (`now()` ms). Events:
 * `hold` (spriteID) when a hold starts, `idle` (spriteID) when the last hold is released.
 */
export class ActivityTracker extends EventEmitter implements ActivityReporter {
  readonly #holds = new Map<string, number>()
  readonly #last = new Map<string, number>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    super()
    this.#now = now
  }

  hold(spriteID: string): () => void {
    this.#holds.set(spriteID, (this.#holds.get(spriteID) ?? 0) + 1)
    this.touch(spriteID)
    this.emit('hold', spriteID)
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.#holds.get(spriteID) ?? 1) - 1
      if (n > 0) this.#holds.set(spriteID, n)
      else this.#holds.delete(spriteID)
      this.touch(spriteID)
      if (n <= 0) this.emit('idle', spriteID)
    }
  }

  touch(spriteID: string): void {
    this.#last.set(spriteID, this.#now())
  }

  /** Number of open holds. */
  holds(spriteID: string): number {
    return this.#holds.get(spriteID) ?? 0
  }

  /** Time of the last activity, or undefined when none was seen. */
  lastActivity(spriteID: string): number | undefined {
    return this.#last.get(spriteID)
  }

  /** Drops what is known about a sprite (it was deleted). Open holds stay counted. */
  forget(spriteID: string): void {
    this.#last.delete(spriteID)
  }
}
