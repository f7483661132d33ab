import { SpritesError } from './errors.ts'

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/**
 * Parses a Go-style duration (`500ms`, `1.5s`, `1m30s`, `1h`) or a bare number of seconds.
 * @returns milliseconds (rounded)
 * @throws SpritesError invalid_argument
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(input: string | number, what = 'duration'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw bad(what, String(input))
    return Math.round(input * 1000)
  }
  const s = input.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000)
  if (s === '') throw bad(what, input)
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let total = 0
  let pos = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (!m) throw bad(what, input)
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    pos = re.lastIndex
  }
  return Math.round(total)
}

function bad(what: string, value: string): SpritesError {
  return new SpritesError(
    'invalid_argument',
    `invalid ${what} ${JSON.stringify(value)}: use a number of seconds or a duration such as 500ms, 10s, 1m30s`,
  )
}

/** Formats milliseconds the Go way for messages: `10s`, `1.5s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  return `${Number((ms / 1000).toFixed(3))}s`
}
