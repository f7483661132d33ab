import { chunkFrames, decodeFrame, encodeExitFrame, parseSignal, StreamID } from '@sprites/protocol'
import type { WebSocket } from 'ws'
import type { ExecClient, ExecSession } from './session.ts'

/** Empty binary frame after this long without sending anything (§1.6). */
export const KEEPALIVE_MS = 15_000
/** A client that falls this far behind is disconnected rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024
/** How long to wait for the client's close after the exit frame before closing ourselves. */
const EXIT_CLOSE_WAIT_MS = 5_000

/**
 * An exec or attach WebSocket bound to a session: relays frames both ways, answers resize and
 * signal messages, sends keepalives and runs the exit sequence of §3.7.
 */
export class WsExecClient implements ExecClient {
  readonly #ws: WebSocket
  readonly #session: ExecSession
  #lastSent = Date.now()
  #keepalive: NodeJS.Timeout
  #done = false

  constructor(ws: WebSocket, session: ExecSession, keepaliveMs = KEEPALIVE_MS) {
    this.#ws = ws
    this.#session = session
    this.#keepalive = setInterval(() => this.#tick(keepaliveMs), Math.min(5000, keepaliveMs))
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('close', () => this.#onClose())
    ws.on('error', () => this.#onClose())
  }

  sendJSON(msg: object): void {
    this.#send(JSON.stringify(msg))
  }

  output(stream: 1 | 2, data: Buffer): void {
    if (this.#session.tty) {
      this.#send(data)
      return
    }
    for (const frame of chunkFrames(stream, data)) this.#send(frame)
  }

  exit(code: number): void {
    if (this.#done) return
    this.#done = true
    clearInterval(this.#keepalive)
    if (this.#session.tty) {
      this.sendJSON({ type: 'exit', exit_code: code })
      this.#ws.close(code === 0 ? 1000 : 4000 + code, `exit ${code}`)
      return
    }
    this.#send(encodeExitFrame(code))
    const t = setTimeout(() => this.#ws.close(1000), EXIT_CLOSE_WAIT_MS)
    t.unref()
    this.#ws.once('close', () => clearTimeout(t))
  }

  abort(reason: string): void {
    if (this.#done) return
    this.#done = true
    clearInterval(this.#keepalive)
    this.#ws.close(1001, reason.slice(0, 120))
  }

  #send(data: Buffer | string): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return
    if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.abort('client too slow')
      return
    }
    this.#lastSent = Date.now()
    this.#ws.send(data, { binary: typeof data !== 'string' })
  }

  #tick(keepaliveMs: number): void {
    if (Date.now() - this.#lastSent >= keepaliveMs) this.#send(Buffer.alloc(0))
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.#onText(data.toString('utf8'))
      return
    }
    if (this.#session.tty) {
      if (data.length > 0) this.#session.write(data)
      return
    }
    const frame = decodeFrame(data)
    if (!frame) return
    if (frame.stream === StreamID.Stdin && frame.data.length > 0) this.#session.write(frame.data)
    else if (frame.stream === StreamID.StdinEOF) this.#session.endStdin()
  }

  #onText(text: string): void {
    if (text.startsWith('control:')) return
    let msg: { type?: unknown; rows?: unknown; cols?: unknown; signal?: unknown }
    try {
      msg = JSON.parse(text)
    } catch {
      return
    }
    if (msg.type === 'resize') {
      this.#session.resize(asInt(msg.rows), asInt(msg.cols))
    } else if (msg.type === 'signal') {
      const sig = parseSignal(typeof msg.signal === 'string' ? msg.signal : undefined)
      if (sig) this.#session.signal(sig.number)
    }
  }

  #onClose(): void {
    clearInterval(this.#keepalive)
    this.#done = true
    this.#session.detach(this)
  }
}

function asInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined
}
