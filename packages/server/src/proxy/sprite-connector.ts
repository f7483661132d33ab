import type { Duplex } from 'node:stream'
import { isSpritesError, SpritesError } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import type { Supervisor } from '../supervisor/supervisor.ts'

/** Port the sprite URL reaches when no service owns `http_port` (D7). */
export const DEFAULT_HTTP_PORT = 8080
/** How long a wake may take before the URL answers 503. */
export const WAKE_TIMEOUT_MS = 30_000
/** How long the target port may refuse connections after a wake before the URL answers 502. */
export const CONNECT_RETRY_MS = 10_000
const RETRY_INTERVAL_MS = 20

/** What the URL proxy needs from the runtime host. */
export interface ConnectorHost {
  ensureRunning(sprite: SpriteRecord): Promise<Sandbox>
}

/**
 * Opens the TCP connection behind one sprite-URL request: wakes the sprite (bounded wait, then
 * 503), picks the `http_port` service (starting it) or 8080, and retries a refused connect for
 * up to {@link CONNECT_RETRY_MS} (then 502).
 */
export class SpriteConnector {
  readonly #host: ConnectorHost
  readonly #supervisor: Supervisor

  constructor(host: ConnectorHost, supervisor: Supervisor) {
    this.#host = host
    this.#supervisor = supervisor
  }

  async connect(sprite: SpriteRecord): Promise<Duplex> {
    const sandbox = await withTimeout(this.#host.ensureRunning(sprite), WAKE_TIMEOUT_MS, sprite)
    const services = await withTimeout(this.#supervisor.forSprite(sprite), WAKE_TIMEOUT_MS, sprite)
    const port = (await services.ensureHTTPService()) ?? DEFAULT_HTTP_PORT
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
}

async function withTimeout<T>(p: Promise<T>, ms: number, sprite: SpriteRecord): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SpritesError('sprite_unavailable', `sprite ${sprite.name} is still waking`, {
            details: { retry_after_seconds: 5 },
          }),
        ),
      ms,
    )
  })
  try {
    return await Promise.race([p, timeout])
  } catch (err) {
    if (isSpritesError(err)) throw err
    throw new SpritesError('sprite_unavailable', `sprite ${sprite.name} could not be woken`, {
      cause: err,
      details: { retry_after_seconds: 5 },
    })
  } finally {
    clearTimeout(timer)
  }
}
