/**
 * A one-shot, unref'd timer that can stop counting: {@link pause} keeps the time left,
 * {@link resume} counts it down again. Used for session timers that must not run while the
 * sprite is warm (its processes are frozen, so its time stands still).
 */
export class PausableTimer {
  readonly #fn: () => void
  readonly #now: () => number
  #left: number
  #deadline = 0
  #handle: NodeJS.Timeout | null = null
  #done = false

  /** Starts counting `ms` at once, or only at the first {@link resume} when `paused`. */
  constructor(fn: () => void, ms: number, opts: { paused?: boolean; now?: () => number } = {}) {
    this.#fn = fn
    this.#left = ms
    this.#now = opts.now ?? Date.now
    if (!opts.paused) this.resume()
  }

  /** Whether the timer is counting down right now. */
  get running(): boolean {
    return this.#handle !== null
  }

  /** Milliseconds left before it fires (while running: as of now). */
  get remainingMs(): number {
    return this.#handle ? Math.max(0, this.#deadline - this.#now()) : this.#left
  }

  /** Stops the countdown, keeping the time left; no-op when paused, fired or cancelled. */
  pause(): void {
    if (!this.#handle) return
    this.#left = this.remainingMs
    clearTimeout(this.#handle)
    this.#handle = null
  }

  /** Counts the time left down again; no-op when running, fired or cancelled. */
  resume(): void {
    if (this.#handle || this.#done) return
    this.#deadline = this.#now() + this.#left
    this.#handle = setTimeout(() => {
      this.#handle = null
      this.#done = true
      this.#fn()
    }, this.#left)
    this.#handle.unref()
  }

  /** Never fires. */
  cancel(): void {
    this.#done = true
    if (this.#handle) clearTimeout(this.#handle)
    this.#handle = null
  }
}
