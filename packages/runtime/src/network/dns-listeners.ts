import { createSocket, type Socket as UDPSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { frame } from './dns-upstream.ts'
import type { Transport } from './egress-resolver.ts'

/** Answers one query from `source`; undefined drops it. */
export type QueryHandler = (
  query: Buffer,
  source: string,
  via: Transport,
) => Promise<Buffer | undefined>

/** TCP connections per gateway, and how long an idle one stays open. */
const MAX_TCP_CONNECTIONS = 64
const TCP_IDLE_MS = 10_000

interface Listener {
  udp: UDPSocket
  tcp: Server
  connections: Set<Socket>
}

/**
 * DNS on port 53 (UDP and TCP) of each gateway address it is asked to serve, bound to that
 * address only, so the host's own port 53 elsewhere stays untouched.
 */
export class DnsListeners {
  readonly #handler: QueryHandler
  readonly #port: number
  readonly #listeners = new Map<string, Promise<Listener>>()

  constructor(handler: QueryHandler, port = 53) {
    this.#handler = handler
    this.#port = port
  }

  /** Listens on `address` unless it already does. Rejects when it cannot bind. */
  ensure(address: string): Promise<void> {
    let l = this.#listeners.get(address)
    if (!l) {
      l = this.#open(address)
      this.#listeners.set(address, l)
      l.catch(() => this.#listeners.delete(address))
    }
    return l.then(() => undefined)
  }

  /** Stops listening on `address`. */
  async close(address: string): Promise<void> {
    const l = this.#listeners.get(address)
    this.#listeners.delete(address)
    const listener = await l?.catch(() => undefined)
    if (listener) await closeListener(listener)
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#listeners.keys()].map((a) => this.close(a)))
  }

  async #open(address: string): Promise<Listener> {
    const udp = createSocket({ type: 'udp4' })
    udp.on('message', (msg, rinfo) => {
      void this.#handler(msg, rinfo.address, 'udp').then(
        (reply) => {
          if (reply) udp.send(reply, rinfo.port, rinfo.address, () => undefined)
        },
        () => undefined,
      )
    })
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(this.#port, address, () => {
        udp.off('error', reject)
        udp.on('error', () => undefined)
        resolve()
      })
    })
    const connections = new Set<Socket>()
    const tcp = createServer((conn) => {
      connections.add(conn)
      conn.on('close', () => connections.delete(conn))
      this.#serveTCP(conn)
    })
    tcp.maxConnections = MAX_TCP_CONNECTIONS
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject)
        tcp.listen(this.#port, address, () => {
          tcp.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      udp.close()
      throw err
    }
    return { udp, tcp, connections }
  }

  /** Length-prefixed queries; answers are written as they complete. */
  #serveTCP(conn: Socket): void {
    const source = conn.remoteAddress ?? ''
    let buffered = Buffer.alloc(0)
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy())
    conn.on('error', () => undefined)
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
        buffered = buffered.subarray(2 + query.length)
        void this.#handler(Buffer.from(query), source, 'tcp').then(
          (reply) => {
            if (reply && !conn.destroyed) conn.write(frame(reply))
          },
          () => undefined,
        )
      }
    })
  }
}

async function closeListener(l: Listener): Promise<void> {
  await new Promise<void>((resolve) => l.udp.close(() => resolve()))
  const closed = new Promise<void>((resolve) => l.tcp.close(() => resolve()))
  // Open connections would keep close() waiting; they are dropped.
  for (const c of l.connections) c.destroy()
  await closed
}
