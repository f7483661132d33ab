import type { Readable, Writable } from 'node:stream'
import type { SpriteRecord } from '@sprites/store'
import type { ActivityReporter } from '../lifecycle/activity.ts'
import {
  type FsSandbox,
  HelperRead,
  helperAnswer,
  pipeWrite,
  type ReadHeader,
  spawnFsHelper,
} from './fs-helper.ts'
import type { FsRange } from './fs-params.ts'

/** Wakes a sprite and returns its running sandbox (the exec service's provider). */
export interface FsSandboxProvider {
  ensureRunning(sprite: SpriteRecord): Promise<FsSandbox>
}

export interface FsServiceOptions {
  provider: FsSandboxProvider
  /** Lifecycle activity: an fs call keeps the sprite running while it lasts. */
  activity?: Pick<ActivityReporter, 'hold'>
  /**
   * Live state without waking: a watch socket on a sprite that is not running waits for it to
   * run (its `booted` or `thawed` event) instead of waking it (sprites-api.md §11).
   */
  states?: SpriteStates
}

/** The host's view of a sprite's state, and its transitions. */
export interface SpriteStates {
  status(sprite: SpriteRecord): 'running' | 'warm' | 'cold'
  on(event: 'booted' | 'thawed', fn: (sprite: { id: string } | string) => void): unknown
  off(event: 'booted' | 'thawed', fn: (sprite: { id: string } | string) => void): unknown
}

/** Identity of an operation (D26): user `sprite` unless `asRoot`. */
export interface FsCall {
  asRoot: boolean
}

/** A read in progress: the announced range, then {@link send} streams the bytes. */
export interface FsReadStream extends ReadHeader {
  send(sink: Writable): Promise<void>
  abort(): void
}

/** Operations that answer one JSON object, with their helper arguments. */
export type FsJSONOp = 'list' | 'delete' | 'rename' | 'copy' | 'chmod' | 'chown'

/**
 * The filesystem API (sprites-api.md §5): every operation wakes the sprite and runs the helper
 * `sprite-fs` inside it, so permissions are the ones of the calling identity.
 */
export class FsService {
  readonly #provider: FsSandboxProvider
  readonly #activity: Pick<ActivityReporter, 'hold'> | undefined

  constructor(o: FsServiceOptions) {
    this.#provider = o.provider
    this.#activity = o.activity
  }

  /** Runs a JSON-answering operation (F3-F8) and returns the helper's answer. */
  async run(
    sprite: SpriteRecord,
    op: FsJSONOp,
    args: Record<string, unknown>,
    call: FsCall,
  ): Promise<Record<string, unknown>> {
    return this.#held(sprite, async () => {
      const proc = await this.#spawn(sprite, op, args, call)
      proc.endStdin()
      return helperAnswer(proc, pathOf(args))
    })
  }

  /** F2: streams `body` into `path` (created or truncated); `size` is the expected length. */
  async write(
    sprite: SpriteRecord,
    args: { path: string; mode?: number; mkdirParents: boolean; size?: number },
    body: Readable,
    call: FsCall,
  ): Promise<Record<string, unknown>> {
    return this.#held(sprite, async () => {
      const proc = await this.#spawn(sprite, 'write', args, call)
      return pipeWrite(proc, body, args.path)
    })
  }

  /**
   * F1: opens `path` for reading; rejects with the helper's error before any byte is sent. The
   * sprite is held busy until the stream ends.
   */
  async read(
    sprite: SpriteRecord,
    path: string,
    range: FsRange | null,
    call: FsCall,
  ): Promise<FsReadStream> {
    const release = this.#activity?.hold(sprite.id)
    try {
      const args = { path, ...range, ranged: range !== null }
      const reader = new HelperRead(await this.#spawn(sprite, 'read', args, call), path)
      const header = await reader.header
      return {
        ...header,
        send: (sink) => reader.pipeTo(sink).finally(() => release?.()),
        abort: () => {
          reader.abort()
          release?.()
        },
      }
    } catch (err) {
      release?.()
      throw err
    }
  }

  async #spawn(sprite: SpriteRecord, op: string, args: Record<string, unknown>, call: FsCall) {
    const sandbox = await this.#provider.ensureRunning(sprite)
    return spawnFsHelper(sandbox, op, args, call.asRoot)
  }

  async #held<T>(sprite: SpriteRecord, fn: () => Promise<T>): Promise<T> {
    const release = this.#activity?.hold(sprite.id)
    try {
      return await fn()
    } finally {
      release?.()
    }
  }
}

function pathOf(args: Record<string, unknown>): string {
  const p = args.path ?? args.source
  return typeof p === 'string' ? p : ''
}
