import { EventEmitter } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** One local port forwarded to a port inside a sprite. */
export interface PortProxyOptions {
  /** Local TCP port; 0 picks a free one. */
  localPort: number
  remotePort: number
  /** Host dialled inside the sprite. @default 'localhost' */
  remoteHost?: string
  /** Local address to listen on. @default '127.0.0.1' */
  localHost?: string
}

/** Opens one connection to the remote side (the SDK's `openProxyConnection`). */
export type ProxyDial = () => Promise<Duplex>

/** Events of a PortProxy. */
export interface PortProxyEvents {
  /** A local connection could not be forwarded (it was closed). */
  error: [err: Error]
  close: []
}

/**
 * A local TCP listener that forwards each accepted connection through its own `WS …/proxy`
 * socket (§9.1). Created by `SpritesClient.proxyPort()`.
 */
export class PortProxy extends EventEmitter<PortProxyEvents> {
  readonly remotePort: number
  readonly remoteHost: string
  readonly #server: Server
  readonly #dial: ProxyDial
  readonly #open = new Set<Socket>()
  #closed: Promise<void>
  #isClosed = false

  private constructor(server: Server, dial: ProxyDial, o: PortProxyOptions) {
    super()
    this.#server = server
    this.#dial = dial
    this.remotePort = o.remotePort
    this.remoteHost = o.remoteHost ?? 'localhost'
    this.#closed = new Promise((resolve) => server.once('close', () => resolve()))
    server.on('connection', (socket: Socket) => this.#forward(socket))
  }

  /**
   * Starts listening.
   * @throws the listen error (e.g. `EADDRINUSE`)
   */
  static async listen(dial: ProxyDial, o: PortProxyOptions): Promise<PortProxy> {
    const server = createServer({ noDelay: true })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.localPort, o.localHost ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    return new PortProxy(server, dial, o)
  }

  /** The port actually listened on (useful with `localPort: 0`). */
  get localPort(): number {
    const a = this.#server.address()
    return typeof a === 'object' && a ? a.port : 0
  }

  /** `host:port` of the local listener. */
  localAddr(): string {
    const a = this.#server.address()
    if (typeof a !== 'object' || !a) return ''
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  }

  /** Stops listening and closes every forwarded connection. Idempotent. */
  close(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    this.#server.close(() => this.emit('close'))
    for (const s of this.#open) s.destroy()
  }

  /** Resolves once the listener is closed. */
  wait(): Promise<void> {
    return this.#closed
  }

  async #forward(socket: Socket): Promise<void> {
    this.#open.add(socket)
    socket.once('close', () => this.#open.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.pause()
    let remote: Duplex
    try {
      remote = await this.#dial()
    } catch (err) {
      socket.destroy()
      if (this.listenerCount('error') > 0) this.emit('error', err as Error)
      return
    }
    if (socket.destroyed) return void remote.destroy()
    remote.on('error', () => socket.destroy())
    remote.once('end', () => socket.end())
    remote.once('close', () => socket.end())
    socket.once('close', () => remote.destroy())
    socket.pipe(remote)
    remote.pipe(socket)
    socket.resume()
  }
}
