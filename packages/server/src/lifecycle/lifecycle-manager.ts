import type { EventEmitter } from 'node:events'
import type { SpriteStatus } from '@sprites/protocol'
import type { SpriteRecord, Store } from '@sprites/store'
import type { HostLogger } from '../host/runtime-sprite-host.ts'
import type { ActivityTracker } from './activity.ts'
import { memAvailableMB } from './host-memory.ts'

/** What the lifecycle needs from the runtime host (RuntimeSpriteHost implements it). */
export interface LifecycleHost extends EventEmitter {
  status(sprite: Pick<SpriteRecord, 'id'>): SpriteStatus
  liveSpriteIDs(): string[]
  freeze(sprite: SpriteRecord): Promise<boolean>
  stop(sprite: SpriteRecord, reason?: string): Promise<void>
  ensureRunning(sprite: SpriteRecord): Promise<unknown>
}

/** Server-wide timings; a sprite may override the first two. */
export interface LifecycleSettings {
  warmAfterMs: number
  coldAfterMs: number
  /** Below this MemAvailable (MiB), warm sprites go cold, oldest-idle first; 0 = never. */
  minMemAvailableMB: number
  tickMs: number
}

export interface LifecycleManagerOptions {
  host: LifecycleHost
  store: Pick<Store, 'getSpriteByID' | 'updateSprite'>
  activity: ActivityTracker
  settings: LifecycleSettings
  log: HostLogger
  /** @default Date.now */
  now?: () => number
  /** @default memAvailableMB of /proc/meminfo */
  memAvailableMB?: () => Promise<number>
  /** Per-sprite overrides (X3 `lifecycle`). */
  timingsOf?: (
    sprite: SpriteRecord,
  ) => Partial<Pick<LifecycleSettings, 'warmAfterMs' | 'coldAfterMs'>>
}

/** Activity is saved as `last_active_at` at most this often per sprite. */
const SAVE_ACTIVITY_EVERY_MS = 1000

/**
 * Sends idle sprites to sleep (running → warm after `warmAfterMs` without activity, warm → cold
 * after `coldAfterMs` warm or under memory pressure) and wakes a warm sprite as soon as something
 * holds it. Timing is checked by {@link sweep}, every `tickMs` once {@link start}ed.
 */
export class LifecycleManager {
  readonly #o: LifecycleManagerOptions
  readonly #now: () => number
  /** When each warm sprite went warm. */
  readonly #warmSince = new Map<string, number>()
  /** Last `lastActiveAt` written per sprite. */
  readonly #saved = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #sweeping: Promise<void> | undefined

  constructor(o: LifecycleManagerOptions) {
    this.#o = o
    this.#now = o.now ?? Date.now
    o.host.on('booted', (sprite: SpriteRecord) => o.activity.touch(sprite.id))
    o.host.on('thawed', (id: string) => {
      this.#warmSince.delete(id)
      o.activity.touch(id)
    })
    o.host.on('warm', (id: string) => this.#warmSince.set(id, this.#now()))
    o.host.on('stopped', (id: string) => this.#warmSince.delete(id))
    o.activity.on('hold', (id: string) => this.#wakeIfWarm(id))
  }

  /** Checks timings every `tickMs` until {@link close}. */
  start(): void {
    this.#timer ??= setInterval(() => void this.sweep(), this.#o.settings.tickMs)
    this.#timer.unref()
  }

  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** One pass over the live sprites; concurrent calls share the pass in progress. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  async #sweep(): Promise<void> {
    const warm: { sprite: SpriteRecord; idleSince: number }[] = []
    for (const id of this.#o.host.liveSpriteIDs()) {
      const sprite = await this.#o.store.getSpriteByID(id).catch(() => null)
      if (!sprite) continue
      try {
        const status = this.#o.host.status(sprite)
        if (status === 'running') await this.#checkRunning(sprite)
        else if (status === 'warm' && !(await this.#checkWarm(sprite)))
          warm.push({ sprite, idleSince: this.#idleSince(sprite) })
      } catch (err) {
        this.#o.log.warn({ err, spriteID: id }, 'lifecycle check failed')
      }
    }
    await this.#relieveMemory(warm)
  }

  async #checkRunning(sprite: SpriteRecord): Promise<void> {
    const { activity } = this.#o
    const last = this.#idleSince(sprite)
    await this.#saveActivity(sprite, last)
    if (activity.holds(sprite.id) > 0) return
    if (this.#now() - last < this.#timings(sprite).warmAfterMs) return
    if (await this.#o.host.freeze(sprite)) this.#o.log.debug({ spriteID: sprite.id }, 'idle: warm')
  }

  /** Takes a sprite cold once it was warm long enough; true when it did. */
  async #checkWarm(sprite: SpriteRecord): Promise<boolean> {
    const since = this.#warmSince.get(sprite.id) ?? this.#now()
    this.#warmSince.set(sprite.id, since)
    if (this.#now() - since < this.#timings(sprite).coldAfterMs) return false
    await this.#o.host.stop(sprite, 'sprite hibernated')
    this.#o.log.info({ spriteID: sprite.id }, 'warm long enough: cold')
    return true
  }

  /** Under memory pressure: warm sprites go cold, oldest-idle first, until MemAvailable recovers. */
  async #relieveMemory(warm: { sprite: SpriteRecord; idleSince: number }[]): Promise<void> {
    const min = this.#o.settings.minMemAvailableMB
    if (min <= 0 || warm.length === 0) return
    const read = this.#o.memAvailableMB ?? memAvailableMB
    warm.sort((a, b) => a.idleSince - b.idleSince)
    for (const { sprite } of warm) {
      const available = await read()
      if (available >= min) return
      this.#o.log.info({ spriteID: sprite.id, availableMB: available }, 'memory pressure: cold')
      await this.#o.host.stop(sprite, 'sprite hibernated')
    }
  }

  #idleSince(sprite: SpriteRecord): number {
    const last = this.#o.activity.lastActivity(sprite.id)
    if (last !== undefined) return last
    // First sight of a live sprite: its idle clock starts now.
    this.#o.activity.touch(sprite.id)
    return this.#now()
  }

  async #saveActivity(sprite: SpriteRecord, last: number): Promise<void> {
    const saved = this.#saved.get(sprite.id) ?? sprite.lastActiveAt?.getTime() ?? 0
    if (last - saved < SAVE_ACTIVITY_EVERY_MS) return
    this.#saved.set(sprite.id, last)
    await this.#o.store.updateSprite(sprite.id, { lastActiveAt: new Date(last) })
  }

  #timings(sprite: SpriteRecord): { warmAfterMs: number; coldAfterMs: number } {
    const own = this.#o.timingsOf?.(sprite) ?? {}
    return {
      warmAfterMs: own.warmAfterMs ?? this.#o.settings.warmAfterMs,
      coldAfterMs: own.coldAfterMs ?? this.#o.settings.coldAfterMs,
    }
  }

  #wakeIfWarm(spriteID: string): void {
    if (this.#o.host.status({ id: spriteID }) !== 'warm') return
    void this.#o.store
      .getSpriteByID(spriteID)
      .then((sprite) => (sprite ? this.#o.host.ensureRunning(sprite) : undefined))
      .catch((err) => this.#o.log.warn({ err, spriteID }, 'wake on activity failed'))
  }
}
