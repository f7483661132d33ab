import type { EventEmitter } from 'node:events'
import { type ListeningPort, type PortWatcher, watchPorts } from '@sprites/runtime'

/** Told about the TCP listeners of one sprite. */
export interface PortListener {
  opened(port: ListeningPort): void
  closed(port: ListeningPort): void
}

/** A listener's registration; `ready` resolves once the current ports are known. */
export interface PortSubscription {
  ready: Promise<void>
  unsubscribe(): void
}

/** Starts polling one sandbox's ports (injectable for tests). */
export type WatchFn = (opts: { sandboxPid: number; intervalMs?: number }) => PortWatcher

export interface PortHubOptions {
  /** The runtime host: `booted` (sprite, sandbox) and `stopped` (spriteID) events. */
  host: Pick<EventEmitter, 'on'>
  /** @default 500 */
  intervalMs?: number
  watch?: WatchFn
}

interface Entry {
  sandboxPid: number | null
  watcher: PortWatcher | null
  listeners: Set<PortListener>
}

/**
 * The TCP listeners of every sprite, shared by exec sessions and `ports/watch` sockets. A sprite's
 * ports are polled only while it has a sandbox and at least one listener; never wakes a sprite.
 * When a sandbox stops, every listener is told its ports closed.
 */
export class PortHub {
  readonly #entries = new Map<string, Entry>()
  readonly #intervalMs: number
  readonly #watch: WatchFn

  constructor(o: PortHubOptions) {
    this.#intervalMs = o.intervalMs ?? 500
    this.#watch = o.watch ?? watchPorts
    o.host.on('booted', (sprite: { id: string }, sandbox: { pid: number }) =>
      this.#booted(sprite.id, sandbox.pid),
    )
    o.host.on('stopped', (spriteID: string) => this.#stopped(spriteID))
  }

  /** Adds a listener to a sprite's ports; polling starts if the sprite has a sandbox. */
  subscribe(spriteID: string, listener: PortListener): PortSubscription {
    const e = this.#entry(spriteID)
    e.listeners.add(listener)
    this.#startWatcher(e)
    return {
      ready: e.watcher ? e.watcher.ready() : Promise.resolve(),
      unsubscribe: () => {
        if (!e.listeners.delete(listener) || e.listeners.size > 0) return
        this.#stopWatcher(e, false)
        if (e.sandboxPid === null && this.#entries.get(spriteID) === e) {
          this.#entries.delete(spriteID)
        }
      },
    }
  }

  /** The ports known after the last poll (empty when nobody listens or the sprite is cold). */
  current(spriteID: string): ListeningPort[] {
    return this.#entries.get(spriteID)?.watcher?.current() ?? []
  }

  /** Stops every watcher (server shutdown). */
  close(): void {
    for (const e of this.#entries.values()) this.#stopWatcher(e, false)
    this.#entries.clear()
  }

  #entry(spriteID: string): Entry {
    let e = this.#entries.get(spriteID)
    if (!e) {
      e = { sandboxPid: null, watcher: null, listeners: new Set() }
      this.#entries.set(spriteID, e)
    }
    return e
  }

  #booted(spriteID: string, sandboxPid: number): void {
    const e = this.#entry(spriteID)
    this.#stopWatcher(e, true)
    e.sandboxPid = sandboxPid
    this.#startWatcher(e)
  }

  #stopped(spriteID: string): void {
    const e = this.#entries.get(spriteID)
    if (!e) return
    this.#stopWatcher(e, true)
    e.sandboxPid = null
    if (e.listeners.size === 0) this.#entries.delete(spriteID)
  }

  #startWatcher(e: Entry): void {
    if (e.watcher || e.sandboxPid === null || e.listeners.size === 0) return
    const w = this.#watch({ sandboxPid: e.sandboxPid, intervalMs: this.#intervalMs })
    w.on('port_opened', (p: ListeningPort) => {
      for (const l of [...e.listeners]) l.opened(p)
    })
    w.on('port_closed', (p: ListeningPort) => {
      for (const l of [...e.listeners]) l.closed(p)
    })
    e.watcher = w
  }

  /** Stops polling; with `announce`, listeners hear that every known port closed. */
  #stopWatcher(e: Entry, announce: boolean): void {
    const w = e.watcher
    if (!w) return
    e.watcher = null
    w.stop()
    w.removeAllListeners()
    if (!announce) return
    for (const p of w.current()) for (const l of [...e.listeners]) l.closed(p)
  }
}
