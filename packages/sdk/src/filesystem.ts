import { posix } from 'node:path'
import { type Query, request, requestJSON } from './http.ts'
import type { ResolvedOptions } from './options.ts'

type Loose = Record<string, unknown>

/** One entry of `fs/list` (§5), with `mode` as a number. */
export interface FsEntry {
  name: string
  /** Absolute path in the sprite. */
  path: string
  type: 'file' | 'directory' | 'symlink'
  size: number
  /** Permission bits, e.g. `0o644`; 0 when the server did not say. */
  mode: number
  modTime: Date | null
  isDir: boolean
}

/** What `fs/write` answers (F2). */
export interface FsWriteResult {
  path: string
  size: number
  mode: number
}

/** Options of `writeFile`. */
export interface FsWriteOptions {
  /** Permission bits of the file, new or existing. @default 0o644 (server) */
  mode?: number
  /** Create missing parent directories. @default true (server) */
  mkdirParents?: boolean
}

/** Options of every filesystem call. */
export interface FsCallOptions {
  /** Run the operation as root instead of user `sprite` (D26). */
  asRoot?: boolean
}

function modeFromWire(v: unknown): number {
  return typeof v === 'string' && /^[0-7]{3,4}$/.test(v) ? Number.parseInt(v, 8) : 0
}

/** Permission bits → the 4-digit octal string of the wire (`0o755` → `"0755"`). */
export function modeToWire(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

/** §5 Entry → FsEntry. */
export function fsEntryFromWire(raw: unknown): FsEntry {
  const w = (raw ?? {}) as Loose
  const type = w.type === 'directory' || w.type === 'symlink' ? w.type : 'file'
  const modTime = typeof w.modTime === 'string' ? new Date(w.modTime) : null
  return {
    name: String(w.name ?? ''),
    path: String(w.path ?? ''),
    type,
    size: Number(w.size ?? 0),
    mode: modeFromWire(w.mode),
    modTime: modTime && !Number.isNaN(modTime.getTime()) ? modTime : null,
    isDir: w.isDir === true || type === 'directory',
  }
}

/**
 * The errno name (`ENOENT`, `EISDIR`, …) of a filesystem error from the server (§5), else
 * undefined.
 */
export function fsErrorCode(err: unknown): string | undefined {
  const code = (err as { details?: { code?: unknown } } | null)?.details?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Files of one sprite (§5 F1-F3): paths are absolute or relative to `workingDir`, which defaults
 * to the server's (`/home/sprite`). Every call wakes the sprite.
 */
export class SpriteFilesystem {
  readonly #o: ResolvedOptions
  readonly #name: string
  readonly #workingDir: string | undefined

  constructor(o: ResolvedOptions, name: string, workingDir?: string) {
    this.#o = o
    this.#name = name
    this.#workingDir = workingDir || undefined
  }

  #query(path: string, opts: FsCallOptions, extra: Query = {}): Query {
    return {
      path,
      workingDir: this.#workingDir,
      asRoot: opts.asRoot ? 'true' : undefined,
      ...extra,
    }
  }

  #path(op: string) {
    return ['sprites', this.#name, 'fs', op]
  }

  /** The file's bytes as a stream (F1). @throws SpritesError with `fsErrorCode` `ENOENT`, `EISDIR`, … */
  async readStream(path: string, opts: FsCallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await request(this.#o, 'GET', this.#path('read'), {
      query: this.#query(path, opts),
      timeoutMs: null,
    })
    return res.body ?? new Blob([]).stream()
  }

  /** The file's bytes (F1). @throws SpritesError with `fsErrorCode` `ENOENT`, `EISDIR`, … */
  async readFile(path: string, opts: FsCallOptions = {}): Promise<Buffer> {
    const res = await request(this.#o, 'GET', this.#path('read'), {
      query: this.#query(path, opts),
      timeoutMs: null,
    })
    return Buffer.from(await res.arrayBuffer())
  }

  /** Creates or truncates the file with `data` (F2); parents are created unless told not to. */
  async writeFile(
    path: string,
    data: Uint8Array,
    opts: FsWriteOptions & FsCallOptions = {},
  ): Promise<FsWriteResult> {
    const extra: Query = {
      mode: opts.mode === undefined ? undefined : modeToWire(opts.mode),
      mkdirParents: opts.mkdirParents === undefined ? undefined : String(opts.mkdirParents),
    }
    const res = (await requestJSON(this.#o, 'PUT', this.#path('write'), {
      query: this.#query(path, opts, extra),
      body: data,
      timeoutMs: null,
    })) as Loose | null
    return {
      path: String(res?.path ?? path),
      size: Number(res?.size ?? 0),
      mode: modeFromWire(res?.mode),
    }
  }

  /** A directory's entries, or the one entry of a file (F3, D25). */
  async list(path: string, opts: FsCallOptions & { recursive?: boolean } = {}) {
    const extra: Query = { recursive: opts.recursive ? 'true' : undefined }
    const res = (await requestJSON(this.#o, 'GET', this.#path('list'), {
      query: this.#query(path, opts, extra),
    })) as Loose | null
    const entries = Array.isArray(res?.entries) ? res.entries.map(fsEntryFromWire) : []
    return { path: String(res?.path ?? path), entries }
  }

  /**
   * The entry describing `path` (F3): a file's own entry, or for a directory one of type
   * `directory` (its mode and size are not reported: 0).
   * @throws SpritesError with `fsErrorCode` `ENOENT` when nothing is there
   */
  async stat(path: string, opts: FsCallOptions = {}): Promise<FsEntry> {
    const { path: abs, entries } = await this.list(path, opts)
    const own = entries.length === 1 ? entries[0] : undefined
    if (own && own.path === abs && !own.isDir) return own
    const name = posix.basename(abs)
    return { name, path: abs, type: 'directory', size: 0, mode: 0, modTime: null, isDir: true }
  }
}
