import type { ServerResponse } from 'node:http'
import { chunkFrames, encodeExitFrame, MAX_HTTP_FRAME_PAYLOAD } from '@sprites/protocol'
import type { ExecClient, ExecSession } from './session.ts'

/**
 * Pause after each frame so the client reads it before the next one arrives. On the project's
 * machines 5 ms gave no merged frame in 300 runs of a stdout+stderr+exit exec; 2 ms merged 2.
 */
export const FRAME_GAP_MS = 5
/** Pause before the exit frame: an exit frame merged into output is lost to the JS client. */
export const EXIT_GAP_MS = 5

/**
 * The response of a one-shot `POST /exec` (§3.12): one HTTP chunk per frame, at most 16 KiB of
 * payload each, exit frame last. The JS client treats each transport read as one frame, and
 * frames have no length prefix, so two frames that reach the client in one TCP read merge.
 * Every write is therefore flushed and followed by a short pause before the next one; this
 * makes merging unlikely, not impossible (the WebSocket exec has no such limit).
 */
export class HttpExecClient implements ExecClient {
  readonly #res: ServerResponse
  #chain: Promise<void> = Promise.resolve()
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
    for (const frame of chunkFrames(stream, data, MAX_HTTP_FRAME_PAYLOAD)) this.#enqueue(frame)
  }

  exit(code: number): void {
    this.#chain = this.#chain.then(() => delay(EXIT_GAP_MS))
    this.#enqueue(encodeExitFrame(code))
    this.#chain = this.#chain.then(() => {
      if (!this.#done) this.#res.end()
      this.#done = true
    })
  }

  abort(): void {
    this.#done = true
    this.#res.destroy()
  }

  #enqueue(frame: Buffer): void {
    this.#chain = this.#chain.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.#done || this.#res.destroyed) {
            resolve()
            return
          }
          this.#res.write(frame, () => setTimeout(resolve, FRAME_GAP_MS))
        }),
    )
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
