import { EventEmitter } from 'node:events'
import { access, constants } from 'node:fs/promises'
import { join } from 'node:path'
import { errors, type SpriteStatus, SpritesError } from '@sprites/protocol'
import type { NetworkDriver, RuntimeDriver, Sandbox } from '@sprites/runtime'
import type { VolumeDriver } from '@sprites/storage'
import type { SpriteRecord, Store } from '@sprites/store'
import type { SandboxProvider } from '../exec/exec-service.ts'
import { memoryLimitMB } from '../policy/sprite-policies.ts'
import type { KillPointName } from './kill-point.ts'
import { WAKE_TIMEOUT_MS, wakeDeadline } from './wake-deadline.ts'

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
  /** Test hook: called at named points of create, delete, wake and hibernate (see kill-point.ts). */
  killPoint?: (point: KillPointName) => void
  /**
   * Called before each sandbox starts; the directory it gives becomes
   * `SandboxSpec.checkpointsDir` (see checkpoints/checkpoint-browse.ts).
   */
  checkpointsDir?: (sprite: SpriteRecord, sandboxID: string) => Promise<string | undefined>
  /**
   * Called before each sandbox starts; the directory it gives becomes `SandboxSpec.policyDir`,
   * `/.sprite/policy` inside (see policy/policy-files.ts).
   */
  policyDir?: (sprite: SpriteRecord) => Promise<string | undefined>
  /**
   * Called before each sandbox starts; the directory it gives becomes `SandboxSpec.logsDir`,
   * `/.sprite/logs` inside (see supervisor/service-log-dirs.ts).
   */
  logsDir?: (sprite: SpriteRecord) => Promise<string | undefined>
  /** How long `ensureRunning` waits for a wake before it answers 503. @default 30 s */
  wakeTimeoutMs?: number
  /** Name servers of the sprite's `/etc/resolv.conf` (`SandboxSpec.dnsServers`). */
  dnsServers?: (sprite: SpriteRecord) => string[]
  /**
   * Awaited once the sandbox's network is up, before `booted` and before any exec can run; a
   * rejection fails the boot. The network egress policy is put in force here
   * (policy/egress-enforcer.ts), so a sprite never runs a moment without it.
   */
  networkReady?: (sprite: SpriteRecord) => Promise<void>
  /**
   * Awaited after `networkReady`, before `booted`: the sandbox runs but nothing else does yet.
   * Upgraded sprites get the installed image's system files here (host/system-files.ts); a
   * rejection is logged and the boot goes on.
   */
  beforeReady?: (sprite: SpriteRecord, rootfs: string, sandbox: Sandbox) => Promise<unknown>
}

interface Live {
  sandbox: Sandbox
  rootfs: string
  /** `warm` once every process is frozen; a thaw makes it `running` again. */
  phase: 'running' | 'warm'
  /** A freeze in progress; wakes wait for it. */
  freezing?: Promise<void>
}

interface StoppingHook {
  fn: (sprite: SpriteRecord) => Promise<void>
  wantsWarm: ((sprite: SpriteRecord) => boolean) | undefined
}

/** How long `stop()` waits for the `onStopping` hooks before it kills the sandbox. */
export const STOPPING_TIMEOUT_MS = 10_000

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
 * has gone, for any reason; `warm` (spriteID) once frozen; `thawed` (spriteID) after a warm
 * wake; `status` (spriteID, status, at: Date) on every change of the reported status.
 */
export class RuntimeSpriteHost extends EventEmitter implements SandboxProvider {
  readonly #o: RuntimeSpriteHostOptions
  readonly #live = new Map<string, Live>()
  readonly #waking = new Map<string, Promise<Live>>()
  /** Sprites being or already destroyed: they are never woken again. */
  readonly #destroyed = new Set<string>()
  /** Cleanups of sandboxes that died on their own; a wake waits for them. */
  readonly #reaping = new Map<string, Promise<void>>()
  /** Status shown while a stop tears a sandbox down. */
  readonly #stopping = new Map<string, SpriteStatus>()
  readonly #now: () => Date
  readonly #stoppingHooks: StoppingHook[] = []

  constructor(o: RuntimeSpriteHostOptions) {
    super()
    this.#o = o
    this.#now = o.now ?? (() => new Date())
  }

  async provision(sprite: SpriteRecord): Promise<void> {
    await this.#o.volumes.createDisk(sprite.id, sprite.config.storageGB * GiB)
    this.#o.killPoint?.('create:after-disk')
  }

  async destroy(sprite: SpriteRecord): Promise<void> {
    this.#destroyed.add(sprite.id)
    await this.stop(sprite, 'sprite deleted')
    this.#o.killPoint?.('delete:after-stop')
    await this.#o.network.teardown(sprite.slot)
    await this.#o.volumes.deleteDisk(sprite.id)
    this.#o.killPoint?.('delete:after-disk')
  }

  /**
   * `running`, `warm` (frozen) or `cold` (no sandbox, disk detached); a sprite being stopped
   * keeps its old status until everything is gone. Never wakes the sprite.
   */
  status(sprite: Pick<SpriteRecord, 'id'>): SpriteStatus {
    return this.#live.get(sprite.id)?.phase ?? this.#stopping.get(sprite.id) ?? 'cold'
  }

  /** Ids of the sprites that have a sandbox (running or warm). */
  liveSpriteIDs(): string[] {
    return [...this.#live.keys()]
  }

  /**
   * The sprite's running sandbox: a warm sprite is thawed, a cold one booted (its disk attached
   * first). Concurrent calls coalesce into one wake. A caller waits at most `wakeTimeoutMs`;
   * the wake itself goes on, so a retry joins it.
   * @throws SpritesError `sprite_unavailable` (retryable, 503 with `Retry-After`) when the wake
   * fails (the sprite is cold) or takes longer than that.
   */
  async ensureRunning(sprite: SpriteRecord): Promise<Sandbox> {
    if (this.#destroyed.has(sprite.id)) throw errors.spriteNotFound(sprite.name)
    const live = this.#live.get(sprite.id)
    if (live?.phase === 'running' && !live.freezing) return live.sandbox
    let waking = this.#waking.get(sprite.id)
    if (!waking) {
      const reaping = this.#reaping.get(sprite.id) ?? Promise.resolve()
      const wake = live ? () => this.#thaw(sprite, live) : () => this.#boot(sprite)
      waking = reaping.then(wake).finally(() => this.#waking.delete(sprite.id))
      this.#waking.set(sprite.id, waking)
      waking.catch(() => undefined)
    }
    const ms = this.#o.wakeTimeoutMs ?? WAKE_TIMEOUT_MS
    return (await wakeDeadline(waking, ms, sprite.name)).sandbox
  }

  /**
   * Freezes every process of a running sprite (running → warm). Returns false, changing
   * nothing, when the sprite is not running or a wake is under way. A failed freeze is undone.
   */
  async freeze(sprite: SpriteRecord): Promise<boolean> {
    const live = this.#live.get(sprite.id)
    if (live?.phase !== 'running' || live.freezing || this.#waking.has(sprite.id)) return false
    const freezing = this.#freeze(sprite, live)
    live.freezing = freezing.then(
      () => undefined,
      () => undefined,
    )
    try {
      return await freezing
    } finally {
      live.freezing = undefined
    }
  }

  /**
   * Registers a hook awaited (all hooks together, at most {@link STOPPING_TIMEOUT_MS}) by `stop()`
   * while a running sprite's sandbox is still alive, e.g. to stop its services gracefully. A warm
   * (frozen) sprite that goes cold is thawed for the hooks when some hook's `wantsWarm` says it
   * has work there (a frozen process cannot handle SIGTERM); otherwise, and for a deleted sprite
   * or a sandbox that died on its own, the hooks are not called.
   */
  onStopping(
    fn: (sprite: SpriteRecord) => Promise<void>,
    wantsWarm?: (sprite: SpriteRecord) => boolean,
  ): void {
    this.#stoppingHooks.push({ fn, wantsWarm })
  }

  /**
   * Stops the sandbox and detaches the disk: the sprite is cold afterwards. A wake that comes
   * meanwhile waits until the old sandbox is gone before it boots a new one.
   */
  async stop(sprite: SpriteRecord, reason = 'sprite stopped'): Promise<void> {
    await this.#waking.get(sprite.id)?.catch(() => undefined)
    await this.#reaping.get(sprite.id)
    await this.#live.get(sprite.id)?.freezing
    await this.#thawForStopping(sprite)
    if (this.#live.get(sprite.id)?.phase === 'running') await this.#runStopping(sprite)
    const live = this.#live.get(sprite.id)
    this.#live.delete(sprite.id)
    if (live) {
      this.#stopping.set(sprite.id, live.phase)
      this.#o.onStopped?.(sprite.id, reason)
      this.emit('stopped', sprite.id, reason)
    }
    const teardown = this.#teardown(sprite, live).finally(() => {
      if (live) this.#stopping.delete(sprite.id)
    })
    const reaping = teardown.catch(() => undefined)
    this.#reaping.set(sprite.id, reaping)
    try {
      await teardown
    } finally {
      if (this.#reaping.get(sprite.id) === reaping) this.#reaping.delete(sprite.id)
    }
  }

  /**
   * A warm sprite going cold (not deleted) is thawed when a hook has work in it; no `thawed`
   * event: the sprite is on its way down, not woken. A failed thaw leaves it to the kill.
   */
  async #thawForStopping(sprite: SpriteRecord): Promise<void> {
    const live = this.#live.get(sprite.id)
    if (live?.phase !== 'warm' || this.#destroyed.has(sprite.id)) return
    if (!this.#stoppingHooks.some((h) => h.wantsWarm?.(sprite))) return
    try {
      await live.sandbox.thaw()
      live.phase = 'running'
    } catch (err) {
      this.#o.log.warn({ spriteID: sprite.id, err }, 'thaw before stopping failed')
    }
  }

  async #runStopping(sprite: SpriteRecord): Promise<void> {
    if (this.#stoppingHooks.length === 0) return
    let timer: NodeJS.Timeout | undefined
    const hooks = Promise.allSettled(this.#stoppingHooks.map((h) => h.fn(sprite))).then((rs) => {
      for (const r of rs) {
        if (r.status === 'rejected')
          this.#o.log.warn({ spriteID: sprite.id, err: r.reason }, 'stopping hook failed')
      }
    })
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#o.log.warn({ spriteID: sprite.id }, 'stopping hooks timed out')
        resolve()
      }, STOPPING_TIMEOUT_MS)
    })
    await Promise.race([hooks, timeout])
    clearTimeout(timer)
  }

  async #teardown(sprite: SpriteRecord, live: Live | undefined): Promise<void> {
    if (live) {
      await live.sandbox.stop()
      this.#o.killPoint?.('cold:after-stop')
      await this.#o.network.teardown(sprite.slot)
    }
    await this.#o.volumes.detach(sprite.id)
    if (!live) return
    this.#stopping.delete(sprite.id)
    this.#emitStatus(sprite.id, 'cold')
    await this.#o.store.updateSprite(sprite.id, { status: 'cold' }).catch(() => undefined)
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
      this.#o.killPoint?.('wake:after-attach')
      const checkpointsDir = await this.#o.checkpointsDir?.(sprite, id)
      const policyDir = await this.#o.policyDir?.(sprite)
      const logsDir = await this.#o.logsDir?.(sprite)
      // The memory limit follows the resources policy as stored now (D1), not a caller's copy.
      const stored = (await this.#o.store.getSpriteByID(sprite.id)) ?? sprite
      sandbox = await this.#o.runtime.start({
        id,
        hostname: sprite.name,
        rootfs: disk.rootfs,
        uidBase: sprite.uidBase,
        uidCount: UID_COUNT,
        memoryBytes: memoryLimitMB(stored) * MiB,
        cpus: sprite.config.cpus,
        pidsMax: this.#o.pidsMax ?? 4096,
        spriteBinDir: this.#o.spriteBinDir,
        checkpointsDir,
        policyDir,
        logsDir,
        dnsServers: this.#o.dnsServers?.(sprite),
      })
      // The sandbox made its netns inside its own user namespace (so it can mount a sysfs of its
      // own); the veth and addresses are added to it now, before any exec runs.
      await this.#o.network.setup(sprite.slot, { pid: sandbox.pid })
      await this.#o.networkReady?.(stored)
      await this.#o.beforeReady?.(stored, disk.rootfs, sandbox).catch((err: unknown) => {
        log.warn({ spriteID: sprite.id, err }, 'preparing the sprite failed; it boots as it is')
      })
      this.#o.killPoint?.('wake:after-start')
      if (this.#destroyed.has(sprite.id)) throw errors.spriteNotFound(sprite.name)
      const live: Live = { sandbox, rootfs: disk.rootfs, phase: 'running' }
      this.#live.set(sprite.id, live)
      sandbox.once('exit', () => this.#onSandboxExit(sprite, live))
      this.emit('booted', sprite, sandbox)
      const now = this.#now()
      this.#emitStatus(sprite.id, 'running', now)
      await this.#o.store.updateSprite(sprite.id, {
        status: 'running',
        lastStartedAt: now,
        lastRunningAt: now,
        lastActiveAt: now,
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
      throw unavailable(sprite, err)
    }
  }

  async #freeze(sprite: SpriteRecord, live: Live): Promise<boolean> {
    const started = performance.now()
    try {
      await live.sandbox.freeze()
    } catch (err) {
      this.#o.log.warn({ spriteID: sprite.id, err }, 'freeze failed; the sprite keeps running')
      await live.sandbox.thaw().catch(() => undefined)
      return false
    }
    this.#o.killPoint?.('hibernate:after-freeze')
    if (this.#live.get(sprite.id) !== live) return false
    live.phase = 'warm'
    const now = this.#now()
    this.emit('warm', sprite.id)
    this.#emitStatus(sprite.id, 'warm', now)
    await this.#o.store
      .updateSprite(sprite.id, { status: 'warm', lastWarmingAt: now })
      .catch((err) => this.#o.log.warn({ err, spriteID: sprite.id }, 'status not saved'))
    const ms = Math.round(performance.now() - started)
    this.#o.log.info({ spriteID: sprite.id, ms }, 'sprite warm')
    return true
  }

  /** warm → running: thaws the frozen processes; a failed thaw takes the sprite cold. */
  async #thaw(sprite: SpriteRecord, live: Live): Promise<Live> {
    await live.freezing
    if (this.#live.get(sprite.id) !== live) return this.#boot(sprite)
    if (live.phase === 'running') return live
    const started = performance.now()
    try {
      await live.sandbox.thaw()
    } catch (err) {
      this.#o.log.error({ spriteID: sprite.id, err }, 'thaw failed; stopping the sprite')
      await this.stop(sprite, 'sprite stopped').catch(() => undefined)
      throw unavailable(sprite, err)
    }
    live.phase = 'running'
    const now = this.#now()
    this.emit('thawed', sprite.id)
    this.#emitStatus(sprite.id, 'running', now)
    await this.#o.store
      .updateSprite(sprite.id, { status: 'running', lastRunningAt: now, lastActiveAt: now })
      .catch((err) => this.#o.log.warn({ err, spriteID: sprite.id }, 'status not saved'))
    const ms = Math.round(performance.now() - started)
    this.#o.log.info({ spriteID: sprite.id, ms }, 'sprite thawed')
    return live
  }

  #emitStatus(spriteID: string, status: SpriteStatus, at = this.#now()): void {
    this.emit('status', spriteID, status, at)
  }

  #onSandboxExit(sprite: SpriteRecord, live: Live): void {
    if (this.#live.get(sprite.id) !== live) return
    this.#live.delete(sprite.id)
    this.#o.log.warn({ spriteID: sprite.id }, 'sprite sandbox exited unexpectedly')
    this.#o.onStopped?.(sprite.id, 'sprite stopped')
    this.emit('stopped', sprite.id, 'sprite stopped')
    this.#emitStatus(sprite.id, 'cold')
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

function unavailable(sprite: SpriteRecord, err: unknown): SpritesError {
  return new SpritesError(
    'sprite_unavailable',
    `sprite ${sprite.name} could not be started: ${(err as Error).message}`,
    { cause: err, details: { retry_after_seconds: 1 } },
  )
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}
