import type { Sandbox, SandboxProcess } from '@sprites/runtime'
import type { Logger } from '../logger.ts'
import { spawnRoot } from './root-command.ts'

/** Size at which a log file is moved to `<file>.1`. */
export const ROTATE_BYTES = 10 * 1024 * 1024

// Prints the file's current size, then becomes `cat >> file`: one long-lived root process per
// log, fed by the host. With `rotate`, the old file first moves to `<file>.1`.
const OPEN =
  'mkdir -p "$(dirname "$0")" && { stat -c %s "$0" 2>/dev/null || echo 0; } && exec cat >> "$0"'
const ROTATE = `mv -f "$0" "$0.1"; ${OPEN}`

export interface LogFileOptions {
  sandbox: Sandbox
  path: string
  log: Logger
  rotateBytes?: number
}

/**
 * Appends lines to a log file inside a sprite through a long-lived `cat` running as root there
 * (the host cannot write into the sprite's idmapped disk). Counts the bytes it wrote and rotates
 * at {@link ROTATE_BYTES}; lines written while the writer (re)opens are queued, never dropped.
 */
export class LogFile {
  readonly #o: LogFileOptions
  readonly #max: number
  #proc: SandboxProcess | undefined
  #size = 0
  #opening = false
  #queue: Buffer[] = []
  #closed = false

  constructor(o: LogFileOptions) {
    this.#o = o
    this.#max = o.rotateBytes ?? ROTATE_BYTES
    this.#open(false)
  }

  write(text: string): void {
    if (this.#closed) return
    const buf = Buffer.from(text)
    if (!this.#opening && this.#size > 0 && this.#size + buf.length > this.#max) this.#rotate()
    if (this.#opening || !this.#proc) {
      this.#queue.push(buf)
      return
    }
    this.#send(buf)
  }

  /** Ends the writer; queued lines are dropped only when the sprite is gone. */
  close(): void {
    this.#closed = true
    if (!this.#opening) this.#proc?.endStdin()
  }

  #send(buf: Buffer): void {
    try {
      this.#proc?.write(buf)
      this.#size += buf.length
    } catch (err) {
      this.#o.log.warn({ err, path: this.#o.path }, 'service log line dropped')
    }
  }

  #rotate(): void {
    const old = this.#proc
    this.#proc = undefined
    old?.endStdin()
    const done = old ? new Promise<void>((r) => old.once('exit', () => r())) : Promise.resolve()
    void done.then(() => this.#open(true))
    this.#opening = true
  }

  #open(rotate: boolean): void {
    this.#opening = true
    spawnRoot(this.#o.sandbox, ['sh', '-c', rotate ? ROTATE : OPEN, this.#o.path], true).then(
      (proc) => {
        let header = ''
        const onSize = (d: Buffer) => {
          header += d.toString()
          if (!header.includes('\n')) return
          proc.off('stdout', onSize)
          this.#size = Number.parseInt(header, 10) || 0
          this.#ready(proc)
        }
        proc.on('stdout', onSize)
      },
      (err) => {
        this.#opening = false
        this.#queue = []
        this.#o.log.warn({ err, path: this.#o.path }, 'service log writer failed to start')
      },
    )
  }

  #ready(proc: SandboxProcess): void {
    this.#proc = proc
    this.#opening = false
    const queued = this.#queue
    this.#queue = []
    if (this.#closed) {
      for (const b of queued) this.#send(b)
      proc.endStdin()
      return
    }
    for (const b of queued) this.write(b.toString())
  }
}
