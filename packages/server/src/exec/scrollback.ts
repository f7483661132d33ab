/** One piece of recorded output; `stream` is 1 (stdout) or 2 (stderr); TTY output is stream 1. */
export interface OutputChunk {
  stream: 1 | 2
  data: Buffer
}

/** Last `capacityBytes` of a session's output, oldest dropped first (§3.8). */
export class Scrollback {
  readonly capacityBytes: number
  #chunks: OutputChunk[] = []
  #size = 0

  constructor(capacityBytes = 64 * 1024) {
    this.capacityBytes = capacityBytes
  }

  push(stream: 1 | 2, data: Buffer): void {
    if (data.length >= this.capacityBytes) {
      this.#chunks = [
        { stream, data: Buffer.from(data.subarray(data.length - this.capacityBytes)) },
      ]
      this.#size = this.capacityBytes
      return
    }
    this.#chunks.push({ stream, data: Buffer.from(data) })
    this.#size += data.length
    while (this.#size > this.capacityBytes) {
      const first = this.#chunks[0] as OutputChunk
      const excess = this.#size - this.capacityBytes
      if (first.data.length <= excess) {
        this.#chunks.shift()
        this.#size -= first.data.length
      } else {
        first.data = first.data.subarray(excess)
        this.#size -= excess
      }
    }
  }

  get size(): number {
    return this.#size
  }

  chunks(): readonly OutputChunk[] {
    return this.#chunks
  }
}
