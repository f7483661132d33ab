import { posix } from 'node:path'
import { SPRITE_HOME } from '@sprites/protocol'
import { fsInvalid } from './fs-errors.ts'

/** Where to read the parameters of one request: query values win, then JSON body fields. */
export type FsParams = (name: string) => unknown

/** Parameters from a query string and, optionally, a JSON body (F4 accepts either, D9). */
export function fsParams(query: URLSearchParams, body: Record<string, unknown> = {}): FsParams {
  return (name) => (query.has(name) ? query.get(name) : body[name])
}

/**
 * Resolves `path` against `workingDir` (default `/home/sprite`; a relative one is taken from
 * there too), lexically, to an absolute, normalized path.
 * @throws FsError EINVAL when the path is missing or contains a NUL byte.
 */
export function resolveFsPath(path: unknown, workingDir: unknown, name = 'path'): string {
  if (typeof path !== 'string' || path === '') throw fsInvalid(`${name} is required`)
  const dir = typeof workingDir === 'string' && workingDir !== '' ? workingDir : SPRITE_HOME
  if (path.includes('\0') || dir.includes('\0'))
    throw fsInvalid(`${name} contains a NUL byte`, path)
  return posix.resolve(SPRITE_HOME, dir, path)
}

/** `true`/`1` and `false`/`0` (strings or JSON values); absent or null → `fallback`. */
export function parseFsBool(value: unknown, name: string, fallback = false): boolean {
  if (value === undefined || value === null || value === '') return fallback
  if (value === true || value === 'true' || value === '1' || value === 1) return true
  if (value === false || value === 'false' || value === '0' || value === 0) return false
  throw fsInvalid(`${name} must be true or false, got ${JSON.stringify(value)}`)
}

/** An octal mode string of 3 or 4 digits (`"0644"`, `"755"`), or a JSON number; absent → undefined. */
export function parseFsMode(value: unknown, name = 'mode'): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777)
    return value
  if (typeof value === 'string' && /^(0o)?[0-7]{3,4}$/.test(value))
    return Number.parseInt(value.replace(/^0o/, ''), 8)
  throw fsInvalid(`${name} must be an octal mode such as "0644", got ${JSON.stringify(value)}`)
}

/** A uid or gid: integer, numeric string, a name, or null/absent (unchanged). */
export function parseFsOwner(value: unknown, name: string): number | string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value)
  if (typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(value)) return value
  throw fsInvalid(`${name} must be a number, a numeric string or a name`)
}

/** A byte range for F1: `start` inclusive, `end` exclusive, or the last `suffix` bytes. */
export interface FsRange {
  start?: number
  end?: number
  suffix?: number
}

/**
 * The range of a read (D27): a single-range `Range: bytes=a-b` / `a-` / `-n` header, else the
 * `start`/`end` query values (byte offsets, both inclusive like the header's). A malformed or
 * multi-range header is ignored (the whole file is sent); bad `start`/`end` values are EINVAL.
 */
export function parseFsRange(header: string | undefined, query: URLSearchParams): FsRange | null {
  const fromHeader = header === undefined ? null : parseRangeHeader(header)
  if (fromHeader) return fromHeader
  const start = offset(query.get('start'), 'start')
  const end = offset(query.get('end'), 'end')
  if (start === undefined && end === undefined) return null
  if (start !== undefined && end !== undefined && end < start)
    throw fsInvalid('end must not be before start')
  return { start: start ?? 0, end: end === undefined ? undefined : end + 1 }
}

function parseRangeHeader(header: string): FsRange | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header)
  if (!m || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') return { suffix: Number(m[2]) }
  const start = Number(m[1])
  if (m[2] === '') return { start }
  const last = Number(m[2])
  return last < start ? null : { start, end: last + 1 }
}

function offset(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined
  if (!/^\d+$/.test(value)) throw fsInvalid(`${name} must be a byte offset`)
  return Number(value)
}
