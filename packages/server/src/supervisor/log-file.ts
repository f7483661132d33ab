import {
  closeSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  read,
  renameSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { promisify } from 'node:util'
import type { Logger } from '../logger.ts'

/** Size at which a log file is moved to `<file>.1`. */
export const ROTATE_BYTES = 10 * 1024 * 1024

/** Pending bytes that are written at once instead of at the end of the tick. */
const FLUSH_BYTES = 256 * 1024

export interface LogFileOptions {
  /** Host path of the file (the sprite sees its directory read-only at `/.sprite/logs`). */
  path: string
  log: Logger
  rotateBytes?: number
  /** A file not written for this long is closed (reopened by the next line). @default 10 s */
  idleCloseMs?: number
}

/** Open descriptors of a log's files (rotated one first) with the bytes they held when taken. */
export interface LogSnapshot {
  files: { fd: number; size: number }[]
}

/**
 * Appends lines to a service's log file on the host, outside the sprite's disk, so restoring a
 * checkpoint leaves the log as it was. Lines of one tick are written together, synchronously, so
 * {@link LogFile.snapshot} gives readers exactly what was logged up to a moment. Rotates at
 * {@link ROTATE_BYTES}: the file becomes `<file>.1` (an older `.1` goes) and a new one starts.
 */
export class LogFile {
  readonly #o: LogFileOptions
  readonly #max: number
  #fd: number | undefined
  #size = 0
  #pending: Buffer[] = []
  #pendingBytes = 0
  #scheduled = false
  #closed = false
  #idle: NodeJS.Timeout | undefined

  constructor(o: LogFileOptions) {
    this.#o = o
    this.#max = o.rotateBytes ?? ROTATE_BYTES
  }

  write(text: string): void {
    if (this.#closed) return
    const buf = Buffer.from(text)
    this.#pending.push(buf)
    this.#pendingBytes += buf.length
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    this.#scheduled = false
    const pending = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    try {
      let batch: Buffer[] = []
      let batchBytes = 0
      for (const buf of pending) {
        const size = this.#currentSize() + batchBytes
        if (size > 0 && size + buf.length > this.#max) {
          this.#append(batch)
          batch = []
          batchBytes = 0
          this.#rotate()
        }
        batch.push(buf)
        batchBytes += buf.length
      }
      this.#append(batch)
    } catch (err) {
      this.#o.log.warn({ err, path: this.#o.path }, 'service log lines dropped')
      this.#closeFile()
    }
    // Quiet services hold no descriptor: spritesd's are shared by every sprite's services.
    if (pending.length > 0 && this.#fd !== undefined) {
      clearTimeout(this.#idle)
      this.#idle = setTimeout(() => this.#closeFile(), this.#o.idleCloseMs ?? 10_000)
      this.#idle.unref()
    }
  }

  /** Whether the file is open now (tests). */
  get isOpen(): boolean {
    return this.#fd !== undefined
  }

  /**
   * Everything logged until now, as open descriptors (read them with {@link snapshotLines}):
   * writes and renames after this moment do not change what they give.
   */
  snapshot(): LogSnapshot {
    this.flush()
    const files: LogSnapshot['files'] = []
    for (const path of [`${this.#o.path}.1`, this.#o.path]) {
      let fd: number
      try {
        fd = openSync(path, 'r')
      } catch {
        continue
      }
      files.push({ fd, size: fstatSync(fd).size })
    }
    return { files }
  }

  /** Writes what is pending and closes the file; later writes are dropped. */
  close(): void {
    this.flush()
    this.#closed = true
    this.#closeFile()
  }

  /** Size of the current file, opening it (and learning its size) on first use. */
  #currentSize(): number {
    if (this.#fd === undefined) this.#open()
    return this.#size
  }

  #append(bufs: Buffer[]): void {
    if (bufs.length === 0) return
    const data = bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs)
    const fd = this.#fd ?? this.#open()
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off)
    this.#size += data.length
  }

  #open(): number {
    mkdirSync(dirname(this.#o.path), { recursive: true, mode: 0o755 })
    const fd = openSync(this.#o.path, 'a', 0o644)
    // Readable inside whatever spritesd's umask is (the sprite sees the file as another uid's).
    fchmodSync(fd, 0o644)
    this.#size = fstatSync(fd).size
    this.#fd = fd
    return fd
  }

  #rotate(): void {
    this.#closeFile()
    try {
      renameSync(this.#o.path, `${this.#o.path}.1`)
    } catch (err) {
      // Removed from outside: the new file simply starts fresh.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    this.#open()
  }

  #closeFile(): void {
    clearTimeout(this.#idle)
    if (this.#fd === undefined) return
    closeSync(this.#fd)
    this.#fd = undefined
    this.#size = 0
  }
}

const readAt = promisify(read)

/**
 * The lines of a snapshot, oldest first, up to the sizes it recorded; closes its descriptors
 * (also when the reader stops early). A last line without `\n` counts as a line.
 */
export async function* snapshotLines(snap: LogSnapshot): AsyncGenerator<string> {
  try {
    const chunk = Buffer.alloc(64 * 1024)
    for (const { fd, size } of snap.files) {
      const decoder = new StringDecoder('utf8')
      let rest = ''
      for (let pos = 0; pos < size; ) {
        const { bytesRead: n } = await readAt(fd, chunk, 0, Math.min(chunk.length, size - pos), pos)
        if (n === 0) break
        pos += n
        const parts = (rest + decoder.write(chunk.subarray(0, n))).split('\n')
        rest = parts.pop() ?? ''
        yield* parts
      }
      rest += decoder.end()
      if (rest !== '') yield rest
    }
  } finally {
    for (const { fd } of snap.files) closeSync(fd)
  }
}
