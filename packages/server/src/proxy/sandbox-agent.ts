import { Agent, type ClientRequestArgs } from 'node:http'
import type { Duplex } from 'node:stream'

/** Idle connections kept per sprite (and HTTP port) for reuse. */
export const MAX_IDLE_CONNECTIONS = 32

type Created = (err: Error | null, socket: Duplex) => void

/**
 * A keep-alive `http.Agent` whose connections are streams through a sprite's agent
 * (`Sandbox.connect`): a response that leaves the connection open returns it to the pool, and
 * the next request to the same sprite skips the connect round trip. Streams get no-op
 * `ref`/`unref`, which the pool calls on idle sockets.
 */
export class SandboxAgent extends Agent {
  readonly #open: () => Promise<Duplex>

  constructor(open: () => Promise<Duplex>) {
    super({ keepAlive: true, maxFreeSockets: MAX_IDLE_CONNECTIONS, scheduling: 'lifo' })
    this.#open = open
  }

  /** Node's Agent takes the stream from the callback when this returns nothing. */
  override createConnection(_options: ClientRequestArgs, created?: Created): undefined {
    this.#open().then(
      (stream) => created?.(null, socketLike(stream)),
      (err: Error) => created?.(err, undefined as unknown as Duplex),
    )
  }
}

function socketLike(stream: Duplex): Duplex {
  const s = stream as Duplex & { ref?: () => unknown; unref?: () => unknown }
  s.ref ??= () => s
  s.unref ??= () => s
  return s
}
