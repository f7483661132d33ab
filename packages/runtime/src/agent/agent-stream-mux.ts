import { constants } from 'node:os'
import {
  decodeConnAccepted,
  decodeSpawnFailed,
  encodeFrame,
  encodeTCPConnect,
  type Frame,
  FrameType,
  type PeerCredentials,
} from './agent-codec.ts'
import { AgentStream } from './agent-stream.ts'

/** Writes one frame to the agent socket; returns its `write()` result. */
export type MuxWrite = (frame: Buffer) => boolean

/** CONN_FAILED: the agent could not connect; `errno` is the agent's errno, `syscode` its name. */
export class AgentConnectError extends Error {
  readonly code = 'agent_connect_failed'
  readonly errno: number
  readonly syscode: string | undefined
  constructor(target: string, errno: number, message: string) {
    const syscode = errnoName(errno)
    super(`cannot connect to ${target} inside the sprite: ${message}`)
    this.name = 'AgentConnectError'
    this.errno = errno
    this.syscode = syscode
  }
}

function errnoName(errno: number): string | undefined {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name
  return undefined
}

interface PendingConnect {
  target: string
  resolve: (stream: AgentStream) => void
  reject: (err: Error) => void
}

/**
 * The stream channels of one agent connection: TCP_CONNECT requests, accepted api.sock
 * connections, and the DATA/EOF/CLOSE/PAUSE/RESUME frames of both (docs/agent-protocol.md).
 */
export class StreamMux {
  readonly #write: MuxWrite
  readonly #onAccepted: (stream: AgentStream, peer: PeerCredentials) => void
  readonly #streams = new Map<number, AgentStream>()
  readonly #connecting = new Map<number, PendingConnect>()
  #drainWaiters: Array<() => void> = []

  constructor(write: MuxWrite, onAccepted: (stream: AgentStream, peer: PeerCredentials) => void) {
    this.#write = write
    this.#onAccepted = onAccepted
  }

  /** True while `channel` is a live or pending stream. */
  has(channel: number): boolean {
    return this.#streams.has(channel) || this.#connecting.has(channel)
  }

  /** Sends TCP_CONNECT on `channel`; resolves on CONN_OPENED, rejects on CONN_FAILED. */
  connect(channel: number, host: string, port: number): Promise<AgentStream> {
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
    return new Promise((resolve, reject) => {
      this.#connecting.set(channel, { target, resolve, reject })
      this.#write(encodeFrame(FrameType.TCP_CONNECT, channel, encodeTCPConnect(host, port)))
    })
  }

  /** Handles a stream frame; returns false for frames that are not about streams. */
  onFrame({ type, channel, payload }: Frame): boolean {
    switch (type) {
      case FrameType.CONN_ACCEPTED:
        this.#onAccepted(this.#open(channel), decodeConnAccepted(payload))
        return true
      case FrameType.CONN_OPENED:
        this.#onOpened(channel)
        return true
      case FrameType.CONN_FAILED:
        this.#onFailed(channel, payload)
        return true
      case FrameType.DATA_OUT:
        this.#streams.get(channel)?.deliverData(payload)
        return true
      case FrameType.EOF_OUT:
        this.#streams.get(channel)?.deliverEOF()
        return true
      case FrameType.CLOSE_OUT:
        this.#streams.get(channel)?.deliverClose(payload.toString('utf8'))
        return true
      case FrameType.PAUSE_OUT:
      case FrameType.RESUME_OUT:
        this.#streams.get(channel)?.deliverFlow(type === FrameType.PAUSE_OUT)
        return true
      default:
        return false
    }
  }

  /** The agent socket drained: writers waiting for it continue. */
  onDrain(): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const w of waiters) w()
  }

  /** The agent connection ended: pending connects reject, live streams are destroyed. */
  teardown(err: Error): void {
    for (const p of this.#connecting.values()) p.reject(err)
    this.#connecting.clear()
    const streams = [...this.#streams.values()]
    this.#streams.clear()
    this.#drainWaiters = []
    for (const s of streams) s.deliverLost()
  }

  #open(channel: number): AgentStream {
    const stream = new AgentStream(
      channel,
      (type, data) => this.#write(encodeFrame(type, channel, data)),
      (callback) => this.#drainWaiters.push(callback),
      () => {
        if (this.#streams.get(channel) === stream) this.#streams.delete(channel)
      },
    )
    this.#streams.set(channel, stream)
    return stream
  }

  #onOpened(channel: number): void {
    const pending = this.#connecting.get(channel)
    if (!pending) return
    this.#connecting.delete(channel)
    pending.resolve(this.#open(channel))
  }

  #onFailed(channel: number, payload: Buffer): void {
    const pending = this.#connecting.get(channel)
    if (!pending) return
    this.#connecting.delete(channel)
    const { code, message } = decodeSpawnFailed(payload)
    pending.reject(new AgentConnectError(pending.target, code, message))
  }
}
