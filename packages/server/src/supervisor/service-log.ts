import { StringDecoder } from 'node:string_decoder'

/** Stream tag of a log line. */
export type LogStream = 'stdout' | 'stderr'

/** One line of service output with the time it arrived. */
export interface LogLine {
  /** Unix milliseconds. */
  timestamp: number
  stream: LogStream
  data: string
}

/** Path of a service's log inside the sprite (one file for both streams). */
export function logPath(name: string): string {
  return `/.sprite/logs/services/${name}.log`
}

/** A log-file line: `<RFC 3339 ms UTC> [stdout|stderr] <text>\n`. */
export function formatLogLine(l: LogLine): string {
  return `${new Date(l.timestamp).toISOString()} [${l.stream}] ${l.data}\n`
}

// The text is everything after the tag: `\r`, U+2028 and U+2029 included (`.` would stop there).
const LINE_RE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) \[(stdout|stderr)\] ([^\n]*)$/

/** Parses a log-file line; null when it is not one. */
export function parseLogLine(text: string): LogLine | null {
  const m = LINE_RE.exec(text)
  if (!m) return null
  const timestamp = Date.parse(m[1] as string)
  if (Number.isNaN(timestamp)) return null
  return { timestamp, stream: m[2] as LogStream, data: m[3] as string }
}

/** Longest line kept whole; longer output is cut into lines of this size. */
export const MAX_LINE_BYTES = 16 * 1024

/**
 * Splits a byte stream into lines (without `\n`, a trailing `\r` dropped). Bytes of an
 * unfinished line wait for the next chunk or `flush()`.
 */
export class LineSplitter {
  #rest = ''
  readonly #decoder = new StringDecoder('utf8')

  push(chunk: Buffer): string[] {
    const text = this.#rest + this.#decoder.write(chunk)
    const parts = text.split('\n')
    this.#rest = parts.pop() ?? ''
    const lines = parts.map(stripCR)
    while (this.#rest.length > MAX_LINE_BYTES) {
      lines.push(this.#rest.slice(0, MAX_LINE_BYTES))
      this.#rest = this.#rest.slice(MAX_LINE_BYTES)
    }
    return lines
  }

  /** The unfinished line, if any (the stream ended). */
  flush(): string[] {
    const rest = this.#rest + this.#decoder.end()
    this.#rest = ''
    return rest === '' ? [] : [stripCR(rest)]
  }
}

function stripCR(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s
}

/** The last lines of a service, kept in memory for the logs API (oldest dropped). */
export class LogBuffer {
  readonly #max: number
  #lines: LogLine[] = []

  constructor(maxLines = 5000) {
    this.#max = maxLines
  }

  push(line: LogLine): void {
    this.#lines.push(line)
    if (this.#lines.length > this.#max * 1.25) this.#lines = this.#lines.slice(-this.#max)
  }

  /** How many lines are held. */
  get size(): number {
    return Math.min(this.#lines.length, this.#max)
  }

  /** The last `n` lines (all held when undefined). */
  tail(n?: number): LogLine[] {
    const all = this.#lines.slice(-this.#max)
    return n === undefined ? all : n <= 0 ? [] : all.slice(-n)
  }
}
