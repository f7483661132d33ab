import type { SpawnOptions } from '../runtime-driver.ts'

/** Frame types of the agent protocol (docs/agent-protocol.md). */
export const FrameType = {
  SPAWN: 0x01,
  STDIN: 0x02,
  STDIN_EOF: 0x03,
  RESIZE: 0x04,
  SIGNAL: 0x05,
  RELEASE: 0x06,
  PING: 0x07,
  TCP_CONNECT: 0x08,
  DATA: 0x09,
  EOF: 0x0a,
  CLOSE: 0x0b,
  PAUSE: 0x0c,
  RESUME: 0x0d,
  READY: 0x80,
  STARTED: 0x81,
  STDOUT: 0x82,
  STDERR: 0x83,
  EXIT: 0x84,
  SPAWN_FAILED: 0x85,
  PONG: 0x87,
  CONN_ACCEPTED: 0x88,
  CONN_OPENED: 0x89,
  CONN_FAILED: 0x8a,
  DATA_OUT: 0x8b,
  EOF_OUT: 0x8c,
  CLOSE_OUT: 0x8d,
  PAUSE_OUT: 0x8e,
  RESUME_OUT: 0x90,
  LOG: 0x8f,
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]

/** SPAWN record tags. */
export const SpawnTag = {
  ARGV: 1,
  ENV: 2,
  CWD: 3,
  PATH: 4,
  UID: 5,
  GID: 6,
  GROUPS: 7,
  TTY: 8,
  STDIN: 9,
} as const

/** Header: `type u8 | channel u32 BE | length u32 BE`. */
export const FRAME_HEADER_BYTES = 9
/** Largest payload either side accepts. */
export const MAX_FRAME_PAYLOAD_BYTES = 1024 * 1024

export interface Frame {
  type: number
  channel: number
  payload: Buffer
}

/** A violation of the agent protocol; the connection cannot continue after it. */
export class AgentProtocolError extends Error {
  readonly code = 'agent_protocol_error'
  constructor(message: string) {
    super(message)
    this.name = 'AgentProtocolError'
  }
}

/** Encodes one frame. @throws AgentProtocolError when the payload exceeds 1 MiB. */
export function encodeFrame(type: number, channel: number, payload: Buffer = Buffer.alloc(0)) {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new AgentProtocolError(
      `frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD_BYTES}; split it`,
    )
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  header.writeUInt8(type, 0)
  header.writeUInt32BE(channel >>> 0, 1)
  header.writeUInt32BE(payload.length, 5)
  return Buffer.concat([header, payload])
}

/**
 * Incremental frame decoder: feed it chunks with any boundaries, get whole frames back.
 * @example
 * const decoder = new FrameDecoder()
 * socket.on('data', (chunk) => { for (const f of decoder.push(chunk)) handle(f) })
 */
export class FrameDecoder {
  #chunks: Buffer[] = []
  #buffered = 0
  readonly #maxPayloadBytes: number

  constructor(maxPayloadBytes = MAX_FRAME_PAYLOAD_BYTES) {
    this.#maxPayloadBytes = maxPayloadBytes
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.#buffered
  }

  /** @throws AgentProtocolError when a header announces a payload above the limit. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const frames: Frame[] = []
    for (;;) {
      if (this.#buffered < FRAME_HEADER_BYTES) return frames
      const header = this.#peek(FRAME_HEADER_BYTES)
      const length = header.readUInt32BE(5)
      if (length > this.#maxPayloadBytes) {
        throw new AgentProtocolError(
          `agent sent a frame of ${length} bytes, above the ${this.#maxPayloadBytes}-byte limit`,
        )
      }
      if (this.#buffered < FRAME_HEADER_BYTES + length) return frames
      this.#take(FRAME_HEADER_BYTES)
      const payload = this.#take(length)
      frames.push({ type: header.readUInt8(0), channel: header.readUInt32BE(1), payload })
    }
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!
    if (first.length >= n) return first.subarray(0, n)
    const all = Buffer.concat(this.#chunks)
    this.#chunks = [all]
    return all.subarray(0, n)
  }

  #take(n: number): Buffer {
    this.#buffered -= n
    const first = this.#chunks[0]
    if (n === 0 || first === undefined) return Buffer.alloc(0)
    if (first.length === n) {
      this.#chunks.shift()
      return first
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let copied = 0
    while (copied < n) {
      const c = this.#chunks[0]!
      const part = Math.min(c.length, n - copied)
      c.copy(out, copied, 0, part)
      copied += part
      if (part === c.length) this.#chunks.shift()
      else this.#chunks[0] = c.subarray(part)
    }
    return out
  }
}

function record(tag: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  const header = Buffer.allocUnsafe(5)
  header.writeUInt8(tag, 0)
  header.writeUInt32BE(bytes.length, 1)
  return Buffer.concat([header, bytes])
}

/** Encodes the SPAWN payload for `opts`. */
export function encodeSpawn(opts: SpawnOptions): Buffer {
  const parts: Buffer[] = []
  for (const arg of opts.argv) parts.push(record(SpawnTag.ARGV, arg))
  for (const entry of opts.env) parts.push(record(SpawnTag.ENV, entry))
  parts.push(record(SpawnTag.CWD, opts.cwd))
  if (opts.path !== undefined) parts.push(record(SpawnTag.PATH, opts.path))
  parts.push(record(SpawnTag.UID, String(opts.uid)))
  parts.push(record(SpawnTag.GID, String(opts.gid)))
  if (opts.groups !== undefined) parts.push(record(SpawnTag.GROUPS, opts.groups.join(',')))
  if (opts.tty) parts.push(record(SpawnTag.TTY, `${opts.tty.rows},${opts.tty.cols}`))
  parts.push(record(SpawnTag.STDIN, opts.stdin ? '1' : '0'))
  return Buffer.concat(parts)
}

/** Decodes SPAWN records into (tag, bytes) pairs. @throws AgentProtocolError on truncation. */
export function decodeSpawnRecords(payload: Buffer): Array<{ tag: number; value: Buffer }> {
  const out: Array<{ tag: number; value: Buffer }> = []
  let off = 0
  while (off < payload.length) {
    if (payload.length - off < 5) throw new AgentProtocolError(`truncated record at ${off}`)
    const tag = payload.readUInt8(off)
    const length = payload.readUInt32BE(off + 1)
    off += 5
    if (length > payload.length - off) {
      throw new AgentProtocolError(`record tag ${tag} of ${length} bytes exceeds the payload`)
    }
    out.push({ tag, value: payload.subarray(off, off + length) })
    off += length
  }
  return out
}

/** RESIZE payload: `rows u16 BE, cols u16 BE`, each clamped to 0-65535. */
export function encodeResize(rows: number, cols: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt16BE(clampU16(rows), 0)
  b.writeUInt16BE(clampU16(cols), 2)
  return b
}

function clampU16(n: number): number {
  return Math.min(0xffff, Math.max(0, Math.trunc(n) || 0))
}

/** EXIT payload: `code u8, signal u8` (signal 0 means none). */
export function decodeExit(payload: Buffer): { code: number; signal: number | null } {
  if (payload.length !== 2) throw new AgentProtocolError(`EXIT payload of ${payload.length} bytes`)
  const signal = payload.readUInt8(1)
  return { code: payload.readUInt8(0), signal: signal === 0 ? null : signal }
}

/** SPAWN_FAILED payload: `code u8` then a message. */
export function decodeSpawnFailed(payload: Buffer): { code: number; message: string } {
  if (payload.length < 1) throw new AgentProtocolError('empty SPAWN_FAILED payload')
  return { code: payload.readUInt8(0), message: payload.subarray(1).toString('utf8') }
}

/** TCP_CONNECT payload: `port u16 BE` then the host (IP literal or `localhost`). */
export function encodeTCPConnect(host: string, port: number): Buffer {
  const hostBytes = Buffer.from(host, 'utf8')
  const b = Buffer.allocUnsafe(2 + hostBytes.length)
  b.writeUInt16BE(port, 0)
  hostBytes.copy(b, 2)
  return b
}

/** Credentials of the process that connected to the agent's api socket (in-sprite ids). */
export interface PeerCredentials {
  uid: number
  gid: number
  pid: number
}

/** CONN_ACCEPTED payload: `uid u32 BE, gid u32 BE, pid u32 BE` (SO_PEERCRED). */
export function decodeConnAccepted(payload: Buffer): PeerCredentials {
  if (payload.length !== 12) {
    throw new AgentProtocolError(`CONN_ACCEPTED payload of ${payload.length} bytes`)
  }
  return {
    uid: payload.readUInt32BE(0),
    gid: payload.readUInt32BE(4),
    pid: payload.readUInt32BE(8),
  }
}
