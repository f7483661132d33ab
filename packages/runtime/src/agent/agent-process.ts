import { EventEmitter } from 'node:events'
import type { SandboxProcess } from '../runtime-driver.ts'
import { encodeResize, FrameType, MAX_FRAME_PAYLOAD_BYTES } from './agent-codec.ts'

/** Sends one frame on this process's channel; returns the socket's `write()` result. */
export type ChannelSend = (type: number, payload?: Buffer) => boolean

type HeldEvent = ['stdout' | 'stderr', Buffer] | ['exit', number, number | null]

/**
 * One process started by the agent. Output and `exit` that arrive before the caller of
 * `AgentClient.spawn()` had a chance to attach listeners are held and emitted on the next
 * `setImmediate` turn, in arrival order, so a listener attached right after `await spawn()`
 * sees everything.
 *
 * Events: `stdout` (Buffer), `stderr` (Buffer), `exit` (code: number, signal: number | null).
 */
export class AgentProcess extends EventEmitter implements SandboxProcess {
  readonly pid: number
  readonly channel: number
  readonly #send: ChannelSend
  #held: HeldEvent[] | null = []
  #exited = false

  constructor(pid: number, channel: number, send: ChannelSend) {
    super()
    this.pid = pid
    this.channel = channel
    this.#send = send
  }

  /** True once the agent reported the exit (or the connection to it ended). */
  get exited(): boolean {
    return this.#exited
  }

  /**
   * Queues bytes for the process's stdin, split into frames of at most 1 MiB. Returns false when
   * the socket to the agent is above its high-water mark (wait for the client's `drain`).
   * Data written after the exit is dropped.
   */
  write(data: Buffer): boolean {
    if (this.#exited) return true
    let ok = true
    for (let off = 0; off < data.length; off += MAX_FRAME_PAYLOAD_BYTES) {
      ok = this.#send(FrameType.STDIN, data.subarray(off, off + MAX_FRAME_PAYLOAD_BYTES))
    }
    return ok
  }

  /** Closes stdin once queued data is written; ignored in TTY mode. */
  endStdin(): void {
    if (!this.#exited) this.#send(FrameType.STDIN_EOF)
  }

  /** Sets the PTY size; the kernel sends SIGWINCH. Ignored without a TTY. */
  resize(rows: number, cols: number): void {
    if (!this.#exited) this.#send(FrameType.RESIZE, encodeResize(rows, cols))
  }

  /** Sends `signo` (1-64) to the process group. @throws RangeError for other numbers. */
  signal(signo: number): void {
    if (!Number.isInteger(signo) || signo < 1 || signo > 64) {
      throw new RangeError(`signal number ${signo} is not in 1-64`)
    }
    if (!this.#exited) this.#send(FrameType.SIGNAL, Buffer.from([signo]))
  }

  /** Called by AgentClient for STDOUT/STDERR frames. */
  deliverOutput(stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.#exited) return
    if (this.#held) this.#held.push([stream, data])
    else this.emit(stream, data)
  }

  /** Called by AgentClient for EXIT, or when the connection ends; only the first call counts. */
  deliverExit(code: number, signal: number | null): void {
    if (this.#exited) return
    this.#exited = true
    if (this.#held) this.#held.push(['exit', code, signal])
    else this.emit('exit', code, signal)
  }

  /** Emits what was held and switches to direct emission. */
  releaseHeld(): void {
    const held = this.#held
    this.#held = null
    for (const [event, ...args] of held ?? []) this.emit(event, ...args)
  }
}
