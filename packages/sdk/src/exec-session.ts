import { EventEmitter } from 'node:events'
import { decodeFrame, encodeFrame, parseSignal, SpritesError, StreamID } from '@sprites/protocol'
import { parseAPIError } from './api-error.ts'
import { sessionInfoFromWire } from './convert.ts'
import type { WebSocketLike } from './options.ts'
import type { SessionInfo } from './types.ts'

/** Events of an ExecSession. */
export interface ExecSessionEvents {
  /** First message of the socket: the session id and mode. */
  sessionInfo: [info: SessionInfo]
  /** Output bytes; in TTY mode all terminal output arrives here. */
  stdout: [data: Buffer]
  stderr: [data: Buffer]
  /** JSON text messages other than `session_info` and `exit` (e.g. `port_opened`). */
  message: [msg: Record<string, unknown>]
  /** The remote command ended with this code. */
  exit: [code: number]
  /** The socket closed (after `exit`, on detach, or on failure). */
  close: [code: number, reason: string]
}

/** Builds an outgoing frame from the current mode; null = nothing to send in this mode. */
type Outgoing = () => Uint8Array | string | null

const OPEN = 1
const CONNECTING = 0

/** Close code → exit code for TTY sockets without an exit message: 1000 → 0, 4000+N → N (§3.7). */
export function exitCodeFromClose(code: number, tty: boolean): number | null {
  if (code >= 4000 && code <= 4255) return code - 4000
  if (code === 1000 && tty) return 0
  return null
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(String(data))
}

function closeError(code: number, reason: string): SpritesError {
  const why = reason ? `${code} ${reason}` : String(code)
  if (code === 1001) {
    return new SpritesError(
      'sprite_unavailable',
      `the server ended the exec connection (${why}) before the command exited: the sprite was stopped, restored or deleted, or the server is shutting down`,
    )
  }
  return new SpritesError(
    'internal',
    `the exec connection was lost (${why}) before the command exited; the session may still be running`,
  )
}

/**
 * One exec or attach connection (§3). Created by `SpritesClient.exec()` / `attach()`. Input, resize
 * and signals are queued until the session has started (`session_info`, or any output), because a
 * server may still be starting the process after the upgrade. `wait()` resolves with the exit code.
 */
export class ExecSession extends EventEmitter<ExecSessionEvents> {
  #ws: WebSocketLike
  #tty: boolean
  /** Frames waiting for the session to start; built when sent, once the mode is known. */
  #queue: Outgoing[] = []
  #info: SessionInfo | null = null
  #exitCode: number | null = null
  #failure: Error | null = null
  #closedByClient = false
  #opened = false
  /** Set once the server has shown the session exists; input is held back until then. */
  #started = false
  #done: Promise<number>
  #settle!: { resolve: (code: number) => void; reject: (err: Error) => void }

  constructor(ws: WebSocketLike, init: { tty: boolean }) {
    super()
    this.#ws = ws
    this.#tty = init.tty
    this.#done = new Promise<number>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    this.#done.catch(() => {})
    ws.binaryType = 'arraybuffer'
    ws.addEventListener('open', () => {
      this.#opened = true
    })
    ws.addEventListener('message', (ev: { data: unknown }) => this.#onMessage(ev.data))
    ws.addEventListener('close', (ev: { code: number; reason: string }) =>
      this.#onClose(ev.code, ev.reason),
    )
    ws.addEventListener('error', (ev: { error?: unknown; message?: string }) => {
      this.#failure ??= ev.error instanceof Error ? ev.error : new Error(ev.message ?? 'error')
    })
    this.#hookHandshakeFailure()
  }

  /** `session_info` once received, else null. */
  get info(): SessionInfo | null {
    return this.#info
  }

  /** True when the session is a TTY session (known for attach after `sessionInfo`). */
  get isTTY(): boolean {
    return this.#tty
  }

  /** Exit code once known, else null. */
  get exitCode(): number | null {
    return this.#exitCode
  }

  /** Sends input: a stdin frame in non-TTY mode, raw bytes in TTY mode. */
  write(data: Uint8Array | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    if (buf.length === 0) return
    this.#send(() => (this.#tty ? buf : encodeFrame(StreamID.Stdin, buf)))
  }

  /** Closes the remote stdin (non-TTY `0x04` frame); a terminal has no EOF, so TTY mode sends nothing. */
  endStdin(): void {
    this.#send(() => (this.#tty ? null : encodeFrame(StreamID.StdinEOF)))
  }

  /** Resizes the remote terminal (TTY only; ignored otherwise). */
  resize(cols: number, rows: number): void {
    this.#send(() => (this.#tty ? JSON.stringify({ type: 'resize', cols, rows }) : null))
  }

  /**
   * Sends a signal to the session's process group.
   * @throws SpritesError invalid_argument for an unknown signal name
   */
  signal(name: string): void {
    const sig = parseSignal(name)
    if (!sig) throw new SpritesError('invalid_argument', `unknown signal ${JSON.stringify(name)}`)
    const msg = JSON.stringify({ type: 'signal', signal: sig.name })
    this.#send(() => msg)
  }

  /** Closes this connection; the remote session keeps running per `maxRunAfterDisconnect`. */
  close(): void {
    this.#closedByClient = true
    this.#queue = []
    if (this.#ws.readyState <= OPEN) this.#ws.close(1000, '')
  }

  /**
   * Resolves with the exit code.
   * @throws SpritesError when the connection ends without one (1001: `sprite_unavailable`)
   */
  wait(): Promise<number> {
    return this.#done
  }

  #send(frame: Outgoing): void {
    const state = this.#ws.readyState
    if (state === OPEN && this.#started) this.#sendNow(frame)
    else if (state === CONNECTING || state === OPEN) this.#queue.push(frame)
  }

  #sendNow(frame: Outgoing): void {
    const data = frame()
    if (data !== null) this.#ws.send(data)
  }

  /** The session exists on the server: send what was queued. */
  #start(): void {
    if (this.#started) return
    this.#started = true
    const queue = this.#queue
    this.#queue = []
    if (this.#ws.readyState === OPEN) for (const frame of queue) this.#sendNow(frame)
  }

  #onMessage(data: unknown): void {
    if (typeof data === 'string') {
      this.#onText(data)
      return
    }
    const buf = toBuffer(data)
    if (buf.length === 0) return // keepalive (§1.6)
    this.#start()
    if (this.#tty) {
      this.emit('stdout', buf)
      return
    }
    this.#onFrame(buf)
  }

  #onFrame(buf: Buffer): void {
    const frame = decodeFrame(buf)
    if (!frame) return
    if (frame.stream === StreamID.Stdout) this.emit('stdout', frame.data)
    else if (frame.stream === StreamID.Stderr) this.emit('stderr', frame.data)
    else if (frame.stream === StreamID.Exit) {
      this.#finish(frame.data[0] ?? 0)
      this.#ws.close(1000, '')
    }
  }

  #onText(text: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(text) as Record<string, unknown>
      if (typeof msg !== 'object' || msg === null) return
    } catch {
      return
    }
    if (msg.type === 'session_info') {
      this.#info = sessionInfoFromWire(msg)
      this.#tty = this.#info.tty
      this.emit('sessionInfo', this.#info)
      this.#start()
    } else if (msg.type === 'exit') {
      this.#finish(Number(msg.exit_code ?? 0))
    } else {
      this.emit('message', msg)
    }
  }

  #finish(code: number): void {
    if (this.#exitCode !== null) return
    this.#exitCode = code
    this.emit('exit', code)
    this.#settle.resolve(code)
  }

  #onClose(code: number, reason: string): void {
    if (this.#exitCode === null) {
      const fromClose = exitCodeFromClose(code, this.#tty)
      if (fromClose !== null && !this.#closedByClient) this.#finish(fromClose)
      else this.#settle.reject(this.#closeFailure(code, reason))
    }
    this.emit('close', code, reason)
  }

  #closeFailure(code: number, reason: string): Error {
    if (this.#handshakeError) return this.#handshakeError
    if (this.#closedByClient) {
      return new SpritesError('internal', 'the connection was closed by the client (detached)')
    }
    if (!this.#opened && this.#failure) {
      return new SpritesError(
        'internal',
        `cannot open the exec connection: ${this.#failure.message}`,
        {
          cause: this.#failure,
        },
      )
    }
    const err = closeError(code, reason)
    if (this.#failure && code === 1006) {
      return new SpritesError(err.code, `${err.message}: ${this.#failure.message}`, {
        cause: this.#failure,
      })
    }
    return err
  }

  #handshakeError: SpritesError | null = null

  /** With `ws`, an HTTP error before the upgrade carries the contract's JSON error body. */
  #hookHandshakeFailure(): void {
    const ws = this.#ws as WebSocketLike & {
      on?: (ev: string, fn: (...args: never[]) => void) => void
      terminate?: () => void
    }
    if (typeof ws.on !== 'function' || typeof ws.terminate !== 'function') return
    ws.on(
      'unexpected-response',
      (_req: unknown, res: NodeJS.ReadableStream & { statusCode?: number }) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          this.#handshakeError = parseAPIError(
            res.statusCode ?? 0,
            Buffer.concat(chunks).toString(),
          )
          ws.terminate?.()
        })
      },
    )
  }
}
