import type { PortProxy, SpritesClient } from '@sprites/sdk'

/** Hosts meaning "every interface": the sprite's own `localhost` is dialled instead. */
const ANY_ADDRESS = new Set(['', '0.0.0.0', '::'])

/** The host the proxy dials for a listener bound to `address` (D8). */
export function dialHost(address: string): string {
  return ANY_ADDRESS.has(address) ? 'localhost' : address
}

function isAddrInUse(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return code === 'EADDRINUSE' || code === 'EACCES'
}

/**
 * Listens on `localPort` (falling back to a free port when it is taken) and forwards to
 * `remotePort` in the sprite.
 */
export async function listenForward(
  client: SpritesClient,
  sprite: string,
  localPort: number,
  remotePort: number,
  remoteHost = 'localhost',
  fallback = true,
): Promise<PortProxy> {
  const opts = { localPort, remotePort, remoteHost }
  try {
    return await client.proxyPort(sprite, opts)
  } catch (err) {
    if (!fallback || localPort === 0 || !isAddrInUse(err)) throw err
    return client.proxyPort(sprite, { ...opts, localPort: 0 })
  }
}

/**
 * Forwards the ports that open in an exec session (`port_opened`) to local ports, the same
 * number when free, and stops when they close (`port_closed`). Each new forward is announced by
 * a line on stderr.
 */
export class PortForwarder {
  readonly #client: SpritesClient
  readonly #sprite: string
  readonly #say: (line: string) => void
  readonly #active = new Map<number, Promise<PortProxy | null>>()
  #closed = false

  constructor(client: SpritesClient, sprite: string, say: (line: string) => void) {
    this.#client = client
    this.#sprite = sprite
    this.#say = say
  }

  /** Handles one JSON text message of the session; other messages are ignored. */
  handle(msg: Record<string, unknown>): void {
    const port = typeof msg.port === 'number' ? msg.port : 0
    if (this.#closed || port <= 0) return
    if (msg.type === 'port_opened' && !this.#active.has(port)) {
      const address = typeof msg.address === 'string' ? msg.address : ''
      this.#active.set(port, this.#open(port, dialHost(address)))
    } else if (msg.type === 'port_closed') {
      void this.#active.get(port)?.then((p) => p?.close())
      this.#active.delete(port)
    }
  }

  /** Closes every forward. */
  closeAll(): void {
    this.#closed = true
    for (const p of this.#active.values()) void p.then((x) => x?.close())
    this.#active.clear()
  }

  async #open(port: number, host: string): Promise<PortProxy | null> {
    try {
      const p = await listenForward(this.#client, this.#sprite, port, port, host)
      if (this.#closed || this.#active.get(port) === undefined) p.close()
      else this.#say(`Forwarding ${p.localAddr()} -> ${this.#sprite} port ${port} (${host})`)
      return p
    } catch (err) {
      this.#say(`Cannot forward port ${port}: ${(err as Error).message}`)
      return null
    }
  }
}
