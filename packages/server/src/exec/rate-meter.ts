/** Bytes per second over a sliding window of whole seconds. */
export class RateMeter {
  readonly windowSeconds: number
  #buckets = new Map<number, number>()
  #now: () => number

  constructor(windowSeconds = 10, now: () => number = Date.now) {
    this.windowSeconds = windowSeconds
    this.#now = now
  }

  add(bytes: number): void {
    const sec = Math.floor(this.#now() / 1000)
    this.#buckets.set(sec, (this.#buckets.get(sec) ?? 0) + bytes)
    if (this.#buckets.size > this.windowSeconds * 2) this.#prune(sec)
  }

  rate(): number {
    const sec = Math.floor(this.#now() / 1000)
    this.#prune(sec)
    let total = 0
    for (const v of this.#buckets.values()) total += v
    return total / this.windowSeconds
  }

  #prune(sec: number): void {
    for (const k of this.#buckets.keys()) if (k <= sec - this.windowSeconds) this.#buckets.delete(k)
  }
}
