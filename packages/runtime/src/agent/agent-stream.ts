import { Duplex } from 'node:stream'
import { FrameType, MAX_FRAME_PAYLOAD_BYTES } from './agent-codec.ts'

/** Sends one frame on a stream's channel; returns the agent socket's `write()` result. */
export type StreamSend = (type: number, payload?: Buffer) => boolean

/** How a stream waits for the agent socket's `drain` (shared by every channel). */
export type WaitDrain = (callback: () => void) => void

/** Buffered bytes on either side of a stream before it pushes back. */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024

/** The error a stream is destroyed with when the agent closed it abruptly. */
export class AgentStreamError extends Error {
  readonly code = 'ECONNRESET'
  constructor(message: string) {
    super(message)
    this.name = 'AgentStreamError'
  }
}

/**
 * One byte-stream channel through the agent: an api.sock connection or a TCP connection made
 * inside the sprite. A plain Duplex with backpressure both ways: when its readable buffer passes
 * the high-water mark it sends PAUSE and sends RESUME on the next `_read`; a write's callback
 * waits while the agent paused the channel or the agent socket is full. `end()` half-closes
 * (EOF); `destroy()` before both sides ended aborts the channel (CLOSE).
 *
 * It also has no-op `setNoDelay`, `setKeepAlive` and `setTimeout`, so `http.Server` can serve it.
 */
export class AgentStream extends Duplex {
  readonly channel: number
  readonly #send: StreamSend
  readonly #waitDrain: WaitDrain
  readonly #forget: () => void
  #pausedRemote = false
  #agentPaused = false
  #heldWrite: (() => void) | undefined
  #sentEOF = false
  #gotEOF = false
  #remoteClosed = false

  constructor(channel: number, send: StreamSend, waitDrain: WaitDrain, forget: () => void) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: STREAM_HIGH_WATER_BYTES,
      writableHighWaterMark: STREAM_HIGH_WATER_BYTES,
    })
    this.channel = channel
    this.#send = send
    this.#waitDrain = waitDrain
    this.#forget = forget
  }

  setNoDelay(): this {
    return this
  }

  setKeepAlive(): this {
    return this
  }

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback)
    return this
  }

  override _read(): void {
    if (!this.#pausedRemote || this.#remoteClosed) return
    this.#pausedRemote = false
    this.#send(FrameType.RESUME)
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error) => void): void {
    // One frame at a time, so a single large write still waits for RESUME and drain.
    const step = (off: number): void => {
      if (this.#remoteClosed) {
        callback(new AgentStreamError('the channel is closed'))
        return
      }
      if (off >= chunk.length) {
        callback()
        return
      }
      const ok = this.#send(FrameType.DATA, chunk.subarray(off, off + MAX_FRAME_PAYLOAD_BYTES))
      const next = () => step(off + MAX_FRAME_PAYLOAD_BYTES)
      // Continues on a later turn: the event loop must get to read a PAUSE from the agent, which
      // synchronous writes to a socket that keeps accepting would never let it do.
      const proceed = () => {
        if (this.#agentPaused) this.#heldWrite = next
        else next()
      }
      if (ok) setImmediate(proceed)
      else this.#waitDrain(proceed)
    }
    step(0)
  }

  override _final(callback: (err?: Error) => void): void {
    if (!this.#remoteClosed) this.#send(FrameType.EOF)
    this.#sentEOF = true
    callback()
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#remoteClosed && !(this.#sentEOF && this.#gotEOF)) this.#send(FrameType.CLOSE)
    this.#remoteClosed = true
    this.#releaseHeld()
    this.#forget()
    callback(err)
  }

  /** DATA from the agent. */
  deliverData(data: Buffer): void {
    if (this.#gotEOF || this.destroyed) return
    if (!this.push(data) && !this.#pausedRemote) {
      this.#pausedRemote = true
      this.#send(FrameType.PAUSE)
    }
  }

  /** EOF from the agent: the other end will send nothing more. */
  deliverEOF(): void {
    if (this.#gotEOF) return
    this.#gotEOF = true
    this.push(null)
  }

  /**
   * CLOSE from the agent. After its EOF the readable side is complete and stays readable (later
   * writes fail); before it the channel broke and the stream is destroyed with the reason.
   */
  deliverClose(reason: string): void {
    this.#remoteClosed = true
    this.#releaseHeld()
    if (this.#gotEOF) {
      this.#forget()
      return
    }
    this.destroy(new AgentStreamError(`connection closed: ${reason || 'reset by the agent'}`))
  }

  /** PAUSE / RESUME from the agent, about the host → agent direction. */
  deliverFlow(paused: boolean): void {
    this.#agentPaused = paused
    if (!paused) this.#releaseHeld()
  }

  /** The agent connection ended: the channel is gone with it. */
  deliverLost(): void {
    if (this.destroyed) return
    this.#remoteClosed = true
    this.destroy(new AgentStreamError('the connection to the sprite agent closed'))
  }

  #releaseHeld(): void {
    const held = this.#heldWrite
    this.#heldWrite = undefined
    held?.()
  }
}
