import type { Sandbox } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import type { Logger } from '../logger.ts'
import { SpriteServices } from './sprite-services.ts'

/** What the supervisor needs from the runtime host (RuntimeSpriteHost satisfies it). */
export interface SupervisorHost {
  ensureRunning(sprite: SpriteRecord): Promise<Sandbox>
  on(event: 'booted', fn: (sprite: SpriteRecord, sandbox: Sandbox) => void): unknown
  on(event: 'stopped', fn: (spriteID: string, reason: string) => void): unknown
  /**
   * Awaited before a running sprite's sandbox is stopped (services stop gracefully then); a warm
   * one is thawed for it when `wantsWarm` says so.
   */
  onStopping?(
    fn: (sprite: SpriteRecord) => Promise<void>,
    wantsWarm?: (sprite: SpriteRecord) => boolean,
  ): void
}

/** How long each service gets after SIGTERM when its sprite stops. */
export const SHUTDOWN_STOP_TIMEOUT_MS = 5_000

export interface SupervisorOptions {
  host: SupervisorHost
  /** Host directory of a sprite's service log files (`/.sprite/logs/services` inside it). */
  logDir: (spriteID: string) => string
  log: Logger
  now?: () => number
}

/**
 * The service supervisor of every sprite. It lives on the host side and runs each service
 * through the sprite's agent: services start when a sprite boots (cold wake, restore), are
 * stopped gracefully (reverse `needs` order) before a sprite's sandbox stops — a warm one is
 * thawed for that — and are forgotten once it has; a warm wake keeps the processes, so nothing
 * restarts.
 */
export class Supervisor {
  readonly #o: SupervisorOptions
  readonly #sprites = new Map<string, { sandbox: Sandbox; services: SpriteServices }>()

  constructor(o: SupervisorOptions) {
    this.#o = o
    o.host.on('booted', (sprite, sandbox) => this.#onBooted(sprite, sandbox))
    o.host.on('stopped', (spriteID) => this.#onStopped(spriteID))
    o.host.onStopping?.(
      (sprite) => this.#onStopping(sprite.id),
      (sprite) => this.#sprites.get(sprite.id)?.services.hasRunning() ?? false,
    )
  }

  /** The services of a sprite, waking it first; resolves once its definitions are loaded. */
  async forSprite(sprite: SpriteRecord): Promise<SpriteServices> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const sandbox = await this.#o.host.ensureRunning(sprite)
      let entry = this.#sprites.get(sprite.id)
      if (!entry || entry.sandbox !== sandbox) {
        // A host that booted the sandbox before this supervisor subscribed.
        this.#onBooted(sprite, sandbox)
        entry = this.#sprites.get(sprite.id)
      }
      if (!entry) continue
      await entry.services.ready
      if (this.#sprites.get(sprite.id) === entry) return entry.services
    }
    throw new Error(`sprite ${sprite.name} keeps stopping while its services load`)
  }

  /** The services of a running sprite without waking it (undefined when not running). */
  peek(spriteID: string): SpriteServices | undefined {
    return this.#sprites.get(spriteID)?.services
  }

  #onBooted(sprite: SpriteRecord, sandbox: Sandbox): void {
    this.#sprites.get(sprite.id)?.services.dispose()
    const log = this.#o.log.child({ spriteID: sprite.id, component: 'supervisor' })
    const services = new SpriteServices({
      sandbox,
      spriteEnv: sprite.environment,
      logDir: this.#o.logDir(sprite.id),
      log,
      now: this.#o.now,
    })
    services.ready.catch((err) => log.error({ err }, 'could not load service definitions'))
    this.#sprites.set(sprite.id, { sandbox, services })
  }

  /** Services stop in reverse `needs` order while the sandbox is still alive. */
  async #onStopping(spriteID: string): Promise<void> {
    const entry = this.#sprites.get(spriteID)
    if (!entry) return
    await entry.services.ready.catch(() => undefined)
    await entry.services.stopAllForShutdown(SHUTDOWN_STOP_TIMEOUT_MS)
  }

  #onStopped(spriteID: string): void {
    this.#sprites.get(spriteID)?.services.dispose()
    this.#sprites.delete(spriteID)
  }
}
