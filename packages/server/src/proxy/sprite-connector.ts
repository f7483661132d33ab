import type { Duplex } from 'node:stream'
import { SpritesError } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import { WAKE_TIMEOUT_MS, wakeDeadline } from '../host/wake-deadline.ts'
import type { Supervisor } from '../supervisor/supervisor.ts'
import { SandboxAgent } from './sandbox-agent.ts'

/** Port the sprite URL reaches when no service owns `http_port` (D7). */
export const DEFAULT_HTTP_PORT = 8080
/** How long the target port may refuse connections after a wake before the URL answers 502. */
export const CONNECT_RETRY_MS = 10_000
const RETRY_INTERVAL_MS = 20

/** What the URL proxy needs from the runtime host. */
export interface ConnectorHost {
  ensureRunning(sprite: SpriteRecord): Promise<Sandbox>
  on(event: 'stopped', fn: (spriteID: string, reason: string) => void): unknown
}

interface Pool {
  sandbox: Sandbox
  port: number
  agent: SandboxAgent
}

/**
 * Opens the TCP connections behind sprite-URL requests: wakes the sprite (bounded wait, then
 * 503), picks the `http_port` service (starting it) or 8080, and retries a refused connect for
 * up to {@link CONNECT_RETRY_MS} (then 502). HTTP requests go through one keep-alive pool per
 * sprite (dropped when its sandbox or target port changes, or the sprite stops).
 */
export class SpriteConnector {
  readonly #host: ConnectorHost
  readonly #supervisor: Supervisor
  readonly #pools = new Map<string, Pool>()

  constructor(host: ConnectorHost, supervisor: Supervisor) {
    this.#host = host
    this.#supervisor = supervisor
    host.on('stopped', (spriteID) => this.#drop(spriteID))
  }

  /** The keep-alive agent for the sprite's HTTP port, waking the sprite first. */
  async agent(sprite: SpriteRecord): Promise<SandboxAgent> {
    const { sandbox, port } = await this.#target(sprite)
    const pool = this.#pools.get(sprite.id)
    if (pool && pool.sandbox === sandbox && pool.port === port) return pool.agent
    this.#drop(sprite.id)
    const agent = new SandboxAgent(() => connectRetrying(sandbox, port, sprite))
    this.#pools.set(sprite.id, { sandbox, port, agent })
    return agent
  }

  /** A new connection to the sprite's HTTP port (WebSocket tunnels), waking the sprite first. */
  async connect(sprite: SpriteRecord): Promise<Duplex> {
    const { sandbox, port } = await this.#target(sprite)
    return connectRetrying(sandbox, port, sprite)
  }

  async #target(sprite: SpriteRecord): Promise<{ sandbox: Sandbox; port: number }> {
    const sandbox = await wakeDeadline(
      this.#host.ensureRunning(sprite),
      WAKE_TIMEOUT_MS,
      sprite.name,
    )
    const services = await wakeDeadline(
      this.#supervisor.forSprite(sprite),
      WAKE_TIMEOUT_MS,
      sprite.name,
    )
    const port = (await services.ensureHTTPService()) ?? DEFAULT_HTTP_PORT
    return { sandbox, port }
  }

  #drop(spriteID: string): void {
    this.#pools.get(spriteID)?.agent.destroy()
    this.#pools.delete(spriteID)
  }
}

async function connectRetrying(
  sandbox: Sandbox,
  port: number,
  sprite: SpriteRecord,
): Promise<Duplex> {
  const deadline = Date.now() + CONNECT_RETRY_MS
  for (;;) {
    try {
      return await sandbox.connect('localhost', port)
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new SpritesError(
          'bad_gateway',
          `nothing is listening on port ${port} in sprite ${sprite.name}`,
          { cause: err },
        )
      }
      await new Promise((r) => setTimeout(r, RETRY_INTERVAL_MS))
    }
  }
}
