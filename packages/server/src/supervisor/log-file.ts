import {
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  type WriteStream,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Logger } from '../logger.ts'

/** Size at which a log file is moved to `<file>.1`. */
export const ROTATE_BYTES = 10 * 1024 * 1024

export interface LogFileOptions {
  /** Host path of the file (the sprite sees its directory read-only at `/.sprite/logs`). */
  path: string
  log: Logger
  rotateBytes?: number
}

/**
 * Appends lines to a service's log file on the host, outside the sprite's disk, so restoring a
 * checkpoint leaves the log as it was. Counts the bytes it wrote and rotates at
 * {@link ROTATE_BYTES}: the file is renamed to `<file>.1` (writes still queued on the old stream
 * land there, in order) and a new one is started.
 */
export class LogFile {
  readonly #o: LogFileOptions
  readonly #max: number
  #stream: WriteStream | undefined
  #size = 0
  #closed = false
  /** Streams ended (rotation, close) that may still be writing. */
  readonly #ending = new Set<Promise<void>>()

  constructor(o: LogFileOptions) {
    this.#o = o
    this.#max = o.rotateBytes ?? ROTATE_BYTES
  }

  write(text: string): void {
    if (this.#closed) return
    const buf = Buffer.from(text)
    try {
      const stream = this.#stream ?? this.#open()
      if (this.#size > 0 && this.#size + buf.length > this.#max) {
        this.#rotate(stream).write(buf)
      } else stream.write(buf)
      this.#size += buf.length
    } catch (err) {
      this.#o.log.warn({ err, path: this.#o.path }, 'service log line dropped')
    }
  }

  /** Ends the writer; resolves once everything written is in the files. */
  close(): Promise<void> {
    this.#closed = true
    if (this.#stream) this.#end(this.#stream)
    this.#stream = undefined
    return Promise.all(this.#ending).then(() => undefined)
  }

  #end(stream: WriteStream): void {
    const ended = new Promise<void>((resolve) => {
      stream.once('close', resolve)
      stream.end()
    })
    this.#ending.add(ended)
    void ended.then(() => this.#ending.delete(ended))
  }

  #open(): WriteStream {
    mkdirSync(dirname(this.#o.path), { recursive: true, mode: 0o755 })
    // Opened here, not by the stream later: a rotation right after must move this very file.
    const fd = openSync(this.#o.path, 'a', 0o644)
    this.#size = fstatSync(fd).size
    const stream = createWriteStream('', { fd })
    stream.on('error', (err) => {
      this.#o.log.warn({ err, path: this.#o.path }, 'service log writer failed')
      if (this.#stream === stream) this.#stream = undefined
    })
    this.#stream = stream
    return stream
  }

  #rotate(old: WriteStream): WriteStream {
    try {
      renameSync(this.#o.path, `${this.#o.path}.1`)
    } catch (err) {
      // Removed from outside: the new file simply starts fresh.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    this.#end(old)
    this.#stream = undefined
    return this.#open()
  }
}

/** How much of a log file's end is read to find its last lines. */
const TAIL_BYTES = 4 * 1024 * 1024

/** The last `n` lines of a file (fewer when it is shorter; none when it is missing). */
export async function tailLines(path: string, n: number): Promise<string[]> {
  let fh: Awaited<ReturnType<typeof open>> | undefined
  try {
    fh = await open(path, 'r')
    const { size } = await fh.stat()
    const length = Math.min(size, TAIL_BYTES)
    const buf = Buffer.alloc(length)
    await fh.read(buf, 0, length, size - length)
    const lines = buf.toString('utf8').split('\n')
    if (lines.at(-1) === '') lines.pop()
    // A partial first line (the read started inside it) is not a line of its own.
    if (length < size) lines.shift()
    return lines.slice(-n)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  } finally {
    await fh?.close()
  }
}
