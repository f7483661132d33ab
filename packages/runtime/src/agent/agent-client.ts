import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import type { SpawnOptions } from '../runtime-driver.ts'
import {
  decodeExit,
  decodeSpawnFailed,
  encodeFrame,
  encodeSpawn,
  type Frame,
  FrameDecoder,
  FrameType,
  type PeerCredentials,
} from './agent-codec.ts'
import { AgentError, closedError, type Logger, NOOP_LOGGER } from './agent-errors.ts'
import { AgentProcess } from './agent-process.ts'
import type { AgentStream } from './agent-stream.ts'
import { StreamMux } from './agent-stream-mux.ts'

export { AgentError, type Logger }

export interface AgentClientOptions {
  log?: Logger
  /** Cap on bytes waiting in the socket's write buffer. @default 64 MiB */
  maxPendingWriteBytes?: number
}

/** SIGKILL: what a process reports when the connection to its agent ends first. */
const LOST_SIGNAL = 9
const LOST_CODE = 255
/** Host-chosen channels stay below 2^31: ids with the high bit set are the agent's. */
const MAX_CHANNEL = 0x7fffffff

interface Pending<T> {
  resolve: (value: T) => void
  reject: (err: Error) => void
}

/**
 * Host side of the sprite-agent protocol over one socket (docs/agent-protocol.md).
 *
 * Events: `ready` (version), `drain`, `close` (err?: Error), `connection` (socket: Duplex,
 * peer: {uid, gid, pid}) for each connection to the agent's api socket (destroyed at once when
 * nobody listens). When the socket ends, every live process emits `exit` with code 255 and
 * signal 9, every stream is destroyed, then the client emits `close`.
 * @example
 * const client = new AgentClient(child.stdio[3] as Duplex)
 * await client.ready()
 * const proc = await client.spawn({ argv: ['true'], env: [], cwd: '/', uid: 0, gid: 0, stdin: false })
 */
export class AgentClient extends EventEmitter {
  readonly #socket: Duplex
  readonly #log: Logger
  readonly #maxPending: number
  readonly #decoder = new FrameDecoder()
  readonly #starting = new Map<number, Pending<AgentProcess>>()
  readonly #procs = new Map<number, AgentProcess>()
  readonly #pings = new Map<number, Pending<number> & { sentAt: number }>()
  #version: string | undefined
  #closed = false
  #nextChannel = 1
  #nextPing = 1
  readonly #streams = new StreamMux(
    (frame) => this.#write(frame),
    (stream, peer) => this.#onAccepted(stream, peer),
  )

  constructor(socket: Duplex, opts: AgentClientOptions = {}) {
    super()
    this.#socket = socket
    this.#log = opts.log ?? NOOP_LOGGER
    this.#maxPending = opts.maxPendingWriteBytes ?? 64 * 1024 * 1024
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#teardown())
    socket.on('close', () => this.#teardown())
    socket.on('error', (err: Error) => this.#teardown(err))
    socket.on('drain', () => {
      this.#streams.onDrain()
      this.emit('drain')
    })
  }

  /** The agent's version, once READY arrived. */
  get version(): string | undefined {
    return this.#version
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Resolves with the agent version on READY. @throws AgentError `agent_timeout`, `agent_closed` */
  ready(timeoutMs = 5000): Promise<string> {
    if (this.#version !== undefined) return Promise.resolve(this.#version)
    if (this.#closed) return Promise.reject(closedError())
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer)
        this.off('ready', onReady)
        this.off('close', onClose)
        if (err) reject(err)
        else resolve(this.#version!)
      }
      const onReady = () => done()
      const onClose = () => done(closedError())
      const timer = setTimeout(
        () => done(new AgentError('agent_timeout', `agent sent no READY within ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.on('ready', onReady)
      this.on('close', onClose)
    })
  }

  /**
   * Starts a process; resolves on STARTED. Failures after the fork (program not found, bad cwd)
   * are in-band: a message on stderr and exit 127, 126 or 1.
   * @throws AgentError `agent_spawn_failed` (SPAWN_FAILED, `errno` set), `agent_closed`
   */
  spawn(opts: SpawnOptions): Promise<AgentProcess> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(closedError())
      const channel = this.#allocateChannel()
      try {
        this.#write(encodeFrame(FrameType.SPAWN, channel, encodeSpawn(opts)))
      } catch (err) {
        return reject(err)
      }
      this.#starting.set(channel, { resolve, reject })
    })
  }

  /**
   * Opens a TCP connection from inside the sprite's network namespace to `host` (an IP address
   * or `localhost`, which tries 127.0.0.1 then ::1) and `port`; resolves once connected.
   * @throws AgentConnectError `agent_connect_failed` (CONN_FAILED: `errno`, `syscode` such as
   *   `ECONNREFUSED`), AgentError `agent_closed`, RangeError for a bad port or host
   */
  connect(host: string, port: number): Promise<Duplex> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return Promise.reject(new RangeError(`port ${port} is not in 1-65535`))
    }
    if (host.length === 0 || Buffer.byteLength(host) > 64) {
      return Promise.reject(new RangeError(`host ${JSON.stringify(host)} is empty or too long`))
    }
    if (this.#closed) return Promise.reject(closedError())
    return this.#streams.connect(this.#allocateChannel(), host, port)
  }

  /** Round trip to the agent in milliseconds. @throws AgentError `agent_closed` */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(closedError())
      const id = this.#nextPing++
      const payload = Buffer.allocUnsafe(4)
      payload.writeUInt32BE(id >>> 0)
      this.#pings.set(id, { resolve, reject, sentAt: performance.now() })
      this.#write(encodeFrame(FrameType.PING, 0, payload))
    })
  }

  /** Ends the socket: the agent kills every process and exits. Resolves once it is closed. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      this.once('close', () => resolve())
      this.#socket.end()
      setTimeout(() => this.#socket.destroy(), 2000).unref()
    })
  }

  #allocateChannel(): number {
    for (;;) {
      const channel = this.#nextChannel
      this.#nextChannel = channel >= MAX_CHANNEL ? 1 : channel + 1
      if (!this.#procs.has(channel) && !this.#starting.has(channel) && !this.#streams.has(channel))
        return channel
    }
  }

  /** Writes a frame; only stdin data (`capped`) counts against maxPendingWriteBytes. */
  #write(frame: Buffer, capped = false): boolean {
    // After close() ended the socket, late frames (a RELEASE for a late EXIT) are dropped.
    if (this.#closed || this.#socket.writableEnded) return true
    if (capped && this.#socket.writableLength + frame.length > this.#maxPending) {
      throw new AgentError(
        'agent_backpressure',
        `more than ${this.#maxPending} bytes are waiting for the agent; wait for 'drain'`,
      )
    }
    return this.#socket.write(frame)
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (err) {
      this.#log.error({ err }, 'agent protocol error')
      this.#socket.destroy(err as Error)
      return
    }
    for (const frame of frames) {
      try {
        this.#onFrame(frame)
      } catch (err) {
        this.#log.error({ err, type: frame.type, channel: frame.channel }, 'bad frame from agent')
        this.#socket.destroy(err as Error)
        return
      }
    }
  }

  #onFrame({ type, channel, payload }: Frame): void {
    switch (type) {
      case FrameType.READY:
        this.#version = payload.toString('utf8')
        this.#log.debug({ version: this.#version }, 'agent ready')
        this.emit('ready', this.#version)
        return
      case FrameType.STARTED:
        this.#onStarted(channel, payload)
        return
      case FrameType.STDOUT:
      case FrameType.STDERR:
        this.#procs
          .get(channel)
          ?.deliverOutput(type === FrameType.STDOUT ? 'stdout' : 'stderr', payload)
        return
      case FrameType.EXIT:
        this.#onExit(channel, payload)
        return
      case FrameType.SPAWN_FAILED:
        this.#onSpawnFailed(channel, payload)
        return
      case FrameType.PONG:
        this.#onPong(payload)
        return
      case FrameType.LOG:
        this.#log.warn({ agent: payload.toString('utf8') }, 'agent log')
        return
      default:
        if (this.#streams.onFrame({ type, channel, payload })) return
        this.#log.debug({ type, channel }, 'ignoring unknown agent frame')
    }
  }

  #onStarted(channel: number, payload: Buffer): void {
    const pending = this.#starting.get(channel)
    if (!pending || payload.length !== 4) return
    this.#starting.delete(channel)
    const proc = new AgentProcess(payload.readUInt32BE(0), channel, (type, data) =>
      this.#write(encodeFrame(type, channel, data), type === FrameType.STDIN),
    )
    this.#procs.set(channel, proc)
    pending.resolve(proc)
    setImmediate(() => proc.releaseHeld())
  }

  #onExit(channel: number, payload: Buffer): void {
    const proc = this.#procs.get(channel)
    if (!proc) return
    const { code, signal } = decodeExit(payload)
    this.#procs.delete(channel)
    this.#write(encodeFrame(FrameType.RELEASE, channel))
    proc.deliverExit(code, signal)
  }

  #onSpawnFailed(channel: number, payload: Buffer): void {
    const pending = this.#starting.get(channel)
    if (!pending) return
    this.#starting.delete(channel)
    const { code, message } = decodeSpawnFailed(payload)
    pending.reject(
      new AgentError('agent_spawn_failed', `agent could not spawn: ${message}`, { errno: code }),
    )
  }

  #onAccepted(stream: AgentStream, peer: PeerCredentials): void {
    if (this.listenerCount('connection') === 0) stream.destroy()
    else this.emit('connection', stream, peer)
  }

  #onPong(payload: Buffer): void {
    if (payload.length !== 4) return
    const id = payload.readUInt32BE(0)
    const ping = this.#pings.get(id)
    if (!ping) return
    this.#pings.delete(id)
    ping.resolve(performance.now() - ping.sentAt)
  }

  #teardown(err?: Error): void {
    if (this.#closed) return
    this.#closed = true
    if (err) this.#log.warn({ err }, 'agent socket failed')
    this.#socket.destroy()
    for (const p of this.#starting.values()) p.reject(closedError(err))
    for (const p of this.#pings.values()) p.reject(closedError(err))
    const procs = [...this.#procs.values()]
    this.#starting.clear()
    this.#pings.clear()
    this.#procs.clear()
    for (const proc of procs) proc.deliverExit(LOST_CODE, LOST_SIGNAL)
    this.#streams.teardown(closedError(err))
    this.emit('close', err)
  }
}
