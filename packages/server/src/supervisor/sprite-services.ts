import { EventEmitter } from 'node:events'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { SpritesError } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import type { Logger } from '../logger.ts'
import { LogFile, type LogSnapshot } from './log-file.ts'
import {
  checkConflicts,
  MAX_SERVICES,
  type ServiceDefinition,
  type StoredService,
  startOrder,
} from './service-definition.ts'
import { serviceFiles } from './service-files.ts'
import { ServiceRunner } from './service-runner.ts'
import type { TimedServiceEvent } from './service-state.ts'

export interface SpriteServicesOptions {
  sandbox: Sandbox
  spriteEnv: Readonly<Record<string, string>>
  /** Host directory of the service log files (`/.sprite/logs/services` inside the sprite). */
  logDir: string
  log: Logger
  now?: () => number
}

interface Entry {
  stored: StoredService
  runner: ServiceRunner
  logFile: LogFile
}

/**
 * The services of one running sprite: loaded from its disk at boot and started in `needs`
 * order (except the sticky-stopped ones); changes are written back to the disk first.
 *
 * Events: `event` (name: string, event: TimedServiceEvent) for every service.
 */
export class SpriteServices extends EventEmitter {
  readonly #o: SpriteServicesOptions
  readonly #entries = new Map<string, Entry>()
  /** Serializes changes to the set of definitions. */
  #lock: Promise<unknown> = Promise.resolve()
  #disposed = false
  readonly ready: Promise<void>

  constructor(o: SpriteServicesOptions) {
    super()
    this.setMaxListeners(0)
    this.#o = o
    this.ready = this.#boot()
  }

  async #boot(): Promise<void> {
    const loaded = await serviceFiles.load(this.#o.sandbox, (line) =>
      this.#o.log.warn({ line }, 'ignoring a damaged service definition'),
    )
    // Files written from inside may hold more than the API lets anyone define.
    const byName = new Map(loaded.map((s) => [s.name, s]))
    const stored = [...byName.values()].sort((a, b) => cmp(a.name, b.name)).slice(0, MAX_SERVICES)
    if (byName.size > stored.length) {
      const ignored = byName.size - stored.length
      this.#o.log.warn(
        { ignored, max: MAX_SERVICES },
        'ignoring service definitions over the limit',
      )
    }
    for (const s of stored) this.#add(s)
    this.#pruneLogs()
    const toStart = stored.filter((s) => !s.stopped).map((s) => s.name)
    void this.startAll(toStart).catch((err) =>
      this.#o.log.error({ err }, 'services failed to start at boot'),
    )
  }

  /** Starts services in dependency order, each after its `needs` are running. */
  async startAll(names: string[]): Promise<void> {
    for (const name of startOrder(this.definitions(), names)) {
      if (this.#disposed) return
      await this.#entries.get(name)?.runner.start()
    }
  }

  definitions(): Map<string, ServiceDefinition> {
    return new Map([...this.#entries].map(([k, e]) => [k, e.runner.def]))
  }

  get(name: string): ServiceRunner | undefined {
    return this.#entries.get(name)?.runner
  }

  list(): ServiceRunner[] {
    return [...this.#entries.values()]
      .map((e) => e.runner)
      .sort((a, b) => cmp(a.def.name, b.def.name))
  }

  /** Everything a service has logged until now, from its log files (rotated one first). */
  logSnapshot(name: string): LogSnapshot {
    return this.#must(name).logFile.snapshot()
  }

  /** The service that owns `http_port`, if any. */
  httpService(): ServiceRunner | undefined {
    return this.list().find((r) => r.def.httpPort !== null)
  }

  /**
   * The sprite-URL target port: the `http_port` service's (started with its `needs` when not
   * running, even after an explicit stop, D43), else null.
   */
  async ensureHTTPService(): Promise<number | null> {
    const r = this.httpService()
    if (!r || r.def.httpPort === null) return null
    if (r.state.status !== 'running' && r.state.status !== 'starting') {
      await this.#startWithNeeds(r.def.name)
    }
    return r.def.httpPort
  }

  /**
   * Creates or replaces a definition (409 on conflicts), stores it, and (re)starts the service.
   * Returns the runner once the new process was spawned.
   */
  put(def: ServiceDefinition, stopTimeoutMs: number): Promise<ServiceRunner> {
    return this.#locked(async () => {
      const others = this.definitions()
      others.delete(def.name)
      checkConflicts(def, others)
      const stored = { ...def, stopped: false }
      await serviceFiles.save(this.#o.sandbox, stored)
      let entry = this.#entries.get(def.name)
      if (entry) {
        await entry.runner.stop(stopTimeoutMs)
        entry.runner.def = def
        entry.stored = stored
      } else {
        entry = this.#add(stored)
        this.#pruneLogs()
      }
      await this.#startWithNeeds(def.name)
      return entry.runner
    })
  }

  /** Stops and removes a service (409 while another one needs it); its log stays. */
  remove(name: string, stopTimeoutMs: number): Promise<void> {
    return this.#locked(async () => {
      const entry = this.#must(name)
      const dependant = this.list().find((r) => r.def.needs.includes(name))
      if (dependant)
        throw new SpritesError('conflict', `service ${dependant.def.name} needs ${name}`)
      await entry.runner.stop(stopTimeoutMs)
      await serviceFiles.remove(this.#o.sandbox, name)
      entry.logFile.close()
      this.#entries.delete(name)
    })
  }

  /** Explicit start: clears the sticky stop and starts stopped `needs` first. */
  async start(name: string): Promise<void> {
    this.#must(name)
    await this.#setStopped(name, false)
    await this.#startWithNeeds(name)
  }

  /** Explicit stop: sticky across boots (D43). */
  async stop(name: string, timeoutMs: number): Promise<number | null> {
    const entry = this.#must(name)
    await this.#setStopped(name, true)
    return entry.runner.stop(timeoutMs)
  }

  /**
   * The sprite is about to stop: every service is stopped (SIGTERM, then SIGKILL after
   * `timeoutMs`), dependants before what they need; nothing is written, so no stop is sticky.
   */
  async stopAllForShutdown(timeoutMs: number): Promise<void> {
    const order = startOrder(this.definitions()).reverse()
    for (const name of order) {
      await this.#entries
        .get(name)
        ?.runner.stop(timeoutMs)
        .catch((err) => this.#o.log.warn({ err, service: name }, 'service stop failed'))
    }
  }

  /** True while some service is starting or running (it is owed a graceful stop). */
  hasRunning(): boolean {
    for (const e of this.#entries.values()) if (e.runner.isRunning) return true
    return false
  }

  /** The sprite stopped: every process is gone; nothing is written. */
  dispose(): void {
    this.#disposed = true
    for (const e of this.#entries.values()) {
      e.runner.dispose()
      e.logFile.close()
    }
  }

  async #startWithNeeds(name: string): Promise<void> {
    const defs = this.definitions()
    const wanted = new Set<string>()
    const collect = (n: string) => {
      if (wanted.has(n) || !defs.has(n)) return
      wanted.add(n)
      for (const need of defs.get(n)?.needs ?? []) collect(need)
    }
    collect(name)
    await this.startAll([...wanted])
  }

  async #setStopped(name: string, stopped: boolean): Promise<void> {
    await this.#locked(async () => {
      const entry = this.#must(name)
      if (entry.stored.stopped === stopped) return
      const next = { ...entry.stored, stopped }
      await serviceFiles.save(this.#o.sandbox, next)
      entry.stored = next
    })
  }

  #add(stored: StoredService): Entry {
    const logFile = new LogFile({ path: this.#logFileOf(stored.name), log: this.#o.log })
    const runner = new ServiceRunner(stored, {
      sandbox: this.#o.sandbox,
      spriteEnv: this.#o.spriteEnv,
      logFile,
      log: this.#o.log,
      now: this.#o.now,
    })
    runner.on('event', (ev: TimedServiceEvent) => this.emit('event', stored.name, ev))
    const entry = { stored, runner, logFile }
    this.#entries.set(stored.name, entry)
    return entry
  }

  #logFileOf(name: string): string {
    return join(this.#o.logDir, `${name}.log`)
  }

  /**
   * A deleted service's log is kept (V4), but only while the sprite has fewer than
   * {@link MAX_SERVICES} logs: beyond that the oldest logs of deleted services go.
   */
  #pruneLogs(): void {
    try {
      const files = readdirSync(this.#o.logDir).flatMap((f) => {
        const name = /^(.+)\.log(\.1)?$/.exec(f)?.[1]
        return name ? [{ name, mtimeMs: statSync(join(this.#o.logDir, f)).mtimeMs }] : []
      })
      for (const name of staleLogs(files, new Set(this.#entries.keys()), MAX_SERVICES)) {
        for (const f of [`${name}.log`, `${name}.log.1`])
          rmSync(join(this.#o.logDir, f), { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#o.log.warn({ err }, 'could not prune old service logs')
      }
    }
  }

  #must(name: string): Entry {
    const e = this.#entries.get(name)
    if (!e) throw new SpritesError('service_not_found', `service not found: ${name}`)
    return e
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn)
    this.#lock = run.catch(() => undefined)
    return run
  }
}

/**
 * Services whose logs go so that at most `max` services have logs: those not `defined`, the
 * least recently written first.
 */
export function staleLogs(
  files: readonly { name: string; mtimeMs: number }[],
  defined: ReadonlySet<string>,
  max: number,
): string[] {
  const newest = new Map<string, number>()
  for (const f of files) newest.set(f.name, Math.max(newest.get(f.name) ?? 0, f.mtimeMs))
  const excess = new Set([...defined, ...newest.keys()]).size - max
  if (excess <= 0) return []
  return [...newest]
    .filter(([name]) => !defined.has(name))
    .sort((a, b) => a[1] - b[1])
    .slice(0, excess)
    .map(([name]) => name)
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
