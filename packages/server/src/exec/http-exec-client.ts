import type { ServerResponse } from 'node:http'
import { encodeExitFrame, encodeFrame, MAX_HTTP_FRAME_PAYLOAD } from '@sprites/protocol'
import type { ExecClient, ExecSession } from './session.ts'

/**
 * Pause after each frame so the client reads it before the next one (the exit frame too: merged
 * into output it is lost to the JS client) arrives. 5 ms gave no merged frame in 300 runs on a
 * quiet machine but merged one on a busy CI host; output that arrives in the meantime joins the
 * next frame (same stream, up to 16 KiB), so the longer pause costs little.
 */
export const FRAME_GAP_MS = 20

interface Pending {
  stream: 1 | 2
  data: Buffer
}

/**
 * The response of a one-shot `POST /exec` (§3.12): one HTTP chunk per frame, at most 16 KiB of
 * payload each, exit frame last. The JS client treats each transport read as one frame, and
 * frames have no length prefix, so two frames that reach the client in one TCP read merge.
 * Every write is therefore flushed and followed by a pause before the next one; output queued
 * meanwhile is sent as few frames as its streams allow. This makes merging unlikely, not
 * impossible (the WebSocket exec has no such limit).
 */
export class HttpExecClient implements ExecClient {
  readonly #res: ServerResponse
  readonly #queue: Pending[] = []
  #exitCode: number | undefined
  #pumping = false
  #done = false

  constructor(res: ServerResponse, session: ExecSession) {
    this.#res = res
    res.socket?.setNoDelay(true)
    res.on('close', () => {
      if (!res.writableFinished) {
        this.#done = true
        session.detach(this)
      }
    })
  }

  output(stream: 1 | 2, data: Buffer): void {
    if (data.length === 0) return
    this.#queue.push({ stream, data })
    this.#schedule()
  }

  exit(code: number): void {
    this.#exitCode = code
    this.#schedule()
  }

  /** Starts the pump after this tick, so what one tick produced leaves as one frame. */
  #schedule(): void {
    if (!this.#pumping) setImmediate(() => void this.#pump())
  }

  abort(): void {
    this.#done = true
    this.#res.destroy()
  }

  /** Writes queued output frame by frame, then (once asked) the exit frame, and ends. */
  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      await this.#writeQueued()
      if (this.#exitCode !== undefined && !this.#done) {
        await this.#write(encodeExitFrame(this.#exitCode))
        if (!this.#done) this.#res.end()
        this.#done = true
      }
    } finally {
      this.#pumping = false
    }
  }

  async #writeQueued(): Promise<void> {
    for (let frame = this.#nextFrame(); frame; frame = this.#nextFrame()) await this.#write(frame)
  }

  /** The queued output of one stream, from the front, as one frame of at most 16 KiB. */
  #nextFrame(): Buffer | undefined {
    const first = this.#queue[0]
    if (!first || this.#done) return undefined
    const parts: Buffer[] = []
    let size = 0
    while (this.#queue[0]?.stream === first.stream && size < MAX_HTTP_FRAME_PAYLOAD) {
      const head = this.#queue[0]
      const take = Math.min(head.data.length, MAX_HTTP_FRAME_PAYLOAD - size)
      parts.push(head.data.subarray(0, take))
      size += take
      if (take === head.data.length) this.#queue.shift()
      else head.data = head.data.subarray(take)
    }
    return encodeFrame(first.stream, Buffer.concat(parts))
  }

  #write(frame: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.#done || this.#res.destroyed) return resolve()
      this.#res.write(frame, () => setTimeout(resolve, FRAME_GAP_MS))
    })
  }
}
