import { createSocket } from 'node:dgram'
import { isIPv6, Socket } from 'node:net'
import type { Transport } from './egress-resolver.ts'

export interface UpstreamOptions {
  /** Resolver addresses (IPv4 or IPv6), tried in order; port 53 unless `port` says otherwise. */
  servers: readonly string[]
  port?: number
  /** Per server. @default 2000 */
  timeoutMs?: number
}

/** Largest DNS message (TCP length prefix). */
const MAX_MESSAGE = 65_535

/**
 * Forwards a query as it is to the upstream resolvers, over the client's transport, and returns
 * the first answer whose id matches. UDP uses a fresh socket (a random source port) per query.
 * @throws Error when no server answered in time (or none is configured).
 */
export function createUpstream(
  o: UpstreamOptions,
): (query: Buffer, via: Transport) => Promise<Buffer> {
  const port = o.port ?? 53
  const timeoutMs = o.timeoutMs ?? 2000
  return async (query, via) => {
    let last: Error = new Error('no upstream DNS server configured')
    for (const server of o.servers) {
      try {
        return via === 'udp'
          ? await overUDP(query, server, port, timeoutMs)
          : await overTCP(query, server, port, timeoutMs)
      } catch (err) {
        last = err as Error
      }
    }
    throw last
  }
}

/**
 * Settles a one-query exchange exactly once: on the reply, an error or the timeout, then runs
 * `close` (the socket's close or destroy).
 */
function exchange(
  server: string,
  timeoutMs: number,
  resolve: (reply: Buffer) => void,
  reject: (err: Error) => void,
): {
  done: (err: Error | undefined, reply?: Buffer) => void
  onClose: (close: () => void) => void
} {
  let close = () => {}
  let finished = false
  const timer = setTimeout(
    () => done(new Error(`${server}: no answer in ${timeoutMs} ms`)),
    timeoutMs,
  )
  const done = (err: Error | undefined, reply?: Buffer) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    close()
    if (err) reject(err)
    else resolve(reply as Buffer)
  }
  return { done, onClose: (fn) => (close = fn) }
}

function overUDP(query: Buffer, server: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server) ? 'udp6' : 'udp4')
    const { done, onClose } = exchange(server, timeoutMs, resolve, reject)
    onClose(() => socket.close())
    socket.on('error', (err) => done(err))
    socket.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(undefined, msg)
    })
    socket.connect(port, server, () => socket.send(query))
  })
}

function overTCP(query: Buffer, server: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let buffered = Buffer.alloc(0)
    const { done, onClose } = exchange(server, timeoutMs, resolve, reject)
    onClose(() => socket.destroy())
    socket.on('error', (err) => done(err))
    socket.on('close', () => done(new Error(`${server}: closed before answering`)))
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 2) return
      const length = buffered.readUInt16BE(0)
      if (buffered.length >= 2 + length) done(undefined, buffered.subarray(2, 2 + length))
    })
    socket.connect(port, server, () => socket.write(frame(query)))
  })
}

/** A message with its TCP length prefix. */
export function frame(msg: Buffer): Buffer {
  if (msg.length > MAX_MESSAGE) throw new RangeError('DNS message too long for TCP')
  const out = Buffer.alloc(2 + msg.length)
  out.writeUInt16BE(msg.length, 0)
  msg.copy(out, 2)
  return out
}
