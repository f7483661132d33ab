import { EventEmitter } from 'node:events'
import { access, constants } from 'node:fs/promises'
import { join } from 'node:path'
import { errors, type SpriteStatus, SpritesError } from '@sprites/protocol'
import type { NetworkDriver, RuntimeDriver, Sandbox } from '@sprites/runtime'
import type { VolumeDriver } from '@sprites/storage'
import type { SpriteRecord, Store } from '@sprites/store'
import type { SandboxProvider } from '../exec/exec-service.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
/** Each sprite's user namespace maps this many ids (0-65535 inside). */
export const UID_COUNT = 65536

type LogFn = (context: object, msg?: string) => void
export interface HostLogger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

export interface RuntimeSpriteHostOptions {
  store: Store
  volumes: VolumeDriver
  runtime: RuntimeDriver
  network: NetworkDriver
  /** Host directory bind-mounted read-only at `/.sprite/bin`. */
  spriteBinDir: string
  pidsMax?: number
  log: HostLogger
  /** Called when a sprite's sandbox stops for any reason (sessions must end). */
  onStopped?: (spriteID: string, reason: string) => void
  now?: () => Date
}

interface Live {
  sandbox: Sandbox
  rootfs: string
}

/** Sandbox id (= container id) of a sprite: stable, short, unique. */
export function sandboxID(sprite: Pick<SpriteRecord, 'id'>): string {
  return `sp-${sprite.id
    .replace(/^sprite-/, '')
    .replaceAll('-', '')
    .slice(0, 16)}`
}

/**
 * The runtime side of the control plane: provisions disks, starts sandboxes on demand (wakes
 * coalesce), stops them and removes everything a sprite owns.
 *
 * Events: `booted` (sprite: SpriteRecord, sandbox: Sandbox) once a sandbox is up, before the
 * wake that started it resolves; `stopped` (spriteID: string, reason: string) when a sandbox
 * has gone, for any reason.
 */
export class RuntimeSpriteHost extends EventEmitter implements SandboxProvider {
  readonly #o: RuntimeSpriteHostOptions
  readonly #live = new Map<string, Live>()
  readonly #waking = new Map<string, Promise<Live>>()
  /** Sprites being or already destroyed: they are never woken again. */
  readonly #destroyed = new Set<string>()
  /** Cleanups of sandboxes that died on their own; a wake waits for them. */
  readonly #reaping = new Map<string, Promise<void>>()
  readonly #now: () => Date

  constructor(o: RuntimeSpriteHostOptions) {
    super()
    this.#o = o
    this.#now = o.now ?? (() => new Date())
  }

  async provision(sprite: SpriteRecord): Promise<void> {
    await this.#o.volumes.createDisk(sprite.id, sprite.config.storageGB * GiB)
  }

  async destroy(sprite: SpriteRecord): Promise<void> {
    this.#destroyed.add(sprite.id)
    await this.stop(sprite, 'sprite deleted')
    await this.#o.network.teardown(sprite.slot)
    await this.#o.volumes.deleteDisk(sprite.id)
  }

  status(sprite: SpriteRecord): SpriteStatus {
    return this.#live.has(sprite.id) ? 'running' : 'cold'
  }

  /** The sprite's sandbox, started (and its disk attached) when needed. */
  async ensureRunning(sprite: SpriteRecord): Promise<Sandbox> {
    if (this.#destroyed.has(sprite.id)) throw errors.spriteNotFound(sprite.name)
    const live = this.#live.get(sprite.id)
    if (live) return live.sandbox
    let waking = this.#waking.get(sprite.id)
    if (!waking) {
      const reaping = this.#reaping.get(sprite.id) ?? Promise.resolve()
      waking = reaping.then(() => this.#boot(sprite)).finally(() => this.#waking.delete(sprite.id))
      this.#waking.set(sprite.id, waking)
    }
    return (await waking).sandbox
  }

  /** Stops the sandbox and detaches the disk: the sprite is cold afterwards. */
  async stop(sprite: SpriteRecord, reason = 'sprite stopped'): Promise<void> {
    await this.#waking.get(sprite.id)?.catch(() => undefined)
    await this.#reaping.get(sprite.id)
    const live = this.#live.get(sprite.id)
    this.#live.delete(sprite.id)
    if (live) {
      this.#o.onStopped?.(sprite.id, reason)
      this.emit('stopped', sprite.id, reason)
      await live.sandbox.stop()
      await this.#o.network.teardown(sprite.slot)
    }
    await this.#o.volumes.detach(sprite.id)
    if (live) await this.#o.store.updateSprite(sprite.id, { status: 'cold' }).catch(() => undefined)
  }

  /** Stops every sandbox (graceful shutdown). */
  async stopAll(): Promise<void> {
    const sprites = await this.#o.store.listAllSprites()
    await Promise.all(
      sprites.filter((s) => this.#live.has(s.id)).map((s) => this.stop(s, 'server shutting down')),
    )
  }

  async resolveProgram(sprite: SpriteRecord, program: string, pathVar: string): Promise<string> {
    const live = this.#live.get(sprite.id)
    if (!live) return program
    for (const dir of pathVar.split(':')) {
      if (!dir.startsWith('/')) continue
      const onHost =
        dir === '/.sprite/bin'
          ? join(this.#o.spriteBinDir, program)
          : join(live.rootfs, dir, program)
      if (await isExecutable(onHost)) return join(dir, program)
    }
    return program
  }

  async #boot(sprite: SpriteRecord): Promise<Live> {
    const started = performance.now()
    const id = sandboxID(sprite)
    const log = this.#o.log
    let sandbox: Sandbox | undefined
    try {
      const disk = await this.#o.volumes.attach(sprite.id, {
        uidBase: sprite.uidBase,
        uidCount: UID_COUNT,
      })
      sandbox = await this.#o.runtime.start({
        id,
        hostname: sprite.name,
        rootfs: disk.rootfs,
        uidBase: sprite.uidBase,
        uidCount: UID_COUNT,
        memoryBytes: sprite.config.ramMB * MiB,
        cpus: sprite.config.cpus,
        pidsMax: this.#o.pidsMax ?? 4096,
        spriteBinDir: this.#o.spriteBinDir,
      })
      // The sandbox made its netns inside its own user namespace (so it can mount a sysfs of its
      // own); the veth and addresses are added to it now, before any exec runs.
      await this.#o.network.setup(sprite.slot, { pid: sandbox.pid })
      if (this.#destroyed.has(sprite.id)) throw errors.spriteNotFound(sprite.name)
      const live = { sandbox, rootfs: disk.rootfs }
      this.#live.set(sprite.id, live)
      sandbox.once('exit', () => this.#onSandboxExit(sprite, live))
      this.emit('booted', sprite, sandbox)
      const now = this.#now()
      await this.#o.store.updateSprite(sprite.id, {
        status: 'running',
        lastStartedAt: now,
        lastRunningAt: now,
      })
      log.info(
        { spriteID: sprite.id, ms: Math.round(performance.now() - started) },
        'sprite started',
      )
      return live
    } catch (err) {
      log.error({ spriteID: sprite.id, err }, 'sprite failed to start')
      await sandbox?.stop().catch(() => undefined)
      await this.#o.network.teardown(sprite.slot).catch(() => undefined)
      await this.#o.volumes.detach(sprite.id).catch(() => undefined)
      if (this.#destroyed.has(sprite.id)) throw errors.spriteNotFound(sprite.name)
      throw new SpritesError(
        'sprite_unavailable',
        `sprite ${sprite.name} could not be started: ${(err as Error).message}`,
        { cause: err, details: { retry_after_seconds: 1 } },
      )
    }
  }

  #onSandboxExit(sprite: SpriteRecord, live: Live): void {
    if (this.#live.get(sprite.id) !== live) return
    this.#live.delete(sprite.id)
    this.#o.log.warn({ spriteID: sprite.id }, 'sprite sandbox exited unexpectedly')
    this.#o.onStopped?.(sprite.id, 'sprite stopped')
    this.emit('stopped', sprite.id, 'sprite stopped')
    const reap = async () => {
      await live.sandbox.stop().catch((err) => this.#o.log.warn({ err }, 'sandbox cleanup failed'))
      await this.#o.network.teardown(sprite.slot).catch(() => undefined)
      await this.#o.volumes.detach(sprite.id).catch(() => undefined)
      await this.#o.store.updateSprite(sprite.id, { status: 'cold' }).catch(() => undefined)
    }
    const reaping = reap().finally(() => this.#reaping.delete(sprite.id))
    this.#reaping.set(sprite.id, reaping)
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}
