import { DEFAULT_EXEC_ENV, errors, parseBool, parseDuration, SPRITE_HOME } from '@sprites/protocol'

/** A validated request to start a command (§3.2). */
export interface ExecRequest {
  argv: string[]
  /** Program to execute; without `/` it is searched in PATH. */
  path: string
  tty: boolean
  stdin: boolean
  rows: number
  cols: number
  /** Request `env` entries, in order, `KEY=VALUE`. */
  env: string[]
  dir: string
  /** 0 = no limit. */
  maxRunAfterDisconnectMs: number
}

const MAX_ARGS = 4096
const MAX_TTY_DIM = 1000

/**
 * Parses exec query parameters. `cmd[]` is an alias of `cmd`; unknown parameters are ignored.
 * @throws SpritesError invalid_argument
 */
export function parseExecRequest(q: URLSearchParams): ExecRequest {
  const cmd = [...q.getAll('cmd'), ...q.getAll('cmd[]')]
  if (cmd.length > MAX_ARGS) throw errors.invalid(`too many cmd arguments (max ${MAX_ARGS})`)
  const path = q.get('path') || cmd[0] || 'bash'
  const argv = cmd.length > 0 ? cmd : [path]
  const tty = parseBool(q.get('tty'), false)
  const detachable = parseBool(q.get('detachable'), false)
  const env = [...q.getAll('env'), ...q.getAll('env[]')]
  for (const e of env) {
    if (!/^[^=\0]+=/.test(e) || e.includes('\0')) {
      throw errors.invalid(`invalid env entry ${JSON.stringify(e)}: use KEY=VALUE`)
    }
  }
  if (argv.some((a) => a.includes('\0')) || path.includes('\0')) {
    throw errors.invalid('cmd and path may not contain NUL bytes')
  }
  const mrad = q.get('max_run_after_disconnect')
  const defaultMrad = tty || detachable ? 0 : 10_000
  return {
    argv,
    path,
    tty,
    stdin: parseBool(q.get('stdin'), tty),
    rows: parseDim(q.get('rows'), 24, 'rows'),
    cols: parseDim(q.get('cols'), 80, 'cols'),
    env,
    dir: q.get('dir') || SPRITE_HOME,
    maxRunAfterDisconnectMs:
      mrad === null || mrad === '' ? defaultMrad : parseDuration(mrad, 'max_run_after_disconnect'),
  }
}

function parseDim(v: string | null, dflt: number, what: string): number {
  if (v === null || v === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > MAX_TTY_DIM) {
    throw errors.invalid(
      `invalid ${what} ${JSON.stringify(v)}: an integer from 1 to ${MAX_TTY_DIM}`,
    )
  }
  return n === 0 ? dflt : n
}

/**
 * Builds the process environment: defaults < sprite `environment` < request `env` (D22, D42).
 * TTY sessions get `TERM=xterm-256color` unless given.
 */
export function buildExecEnv(
  spriteEnv: Readonly<Record<string, string>>,
  requestEnv: readonly string[],
  tty: boolean,
): string[] {
  const merged = new Map<string, string>(Object.entries(DEFAULT_EXEC_ENV))
  if (tty) merged.set('TERM', 'xterm-256color')
  for (const [k, v] of Object.entries(spriteEnv)) merged.set(k, v)
  for (const e of requestEnv) {
    const i = e.indexOf('=')
    merged.set(e.slice(0, i), e.slice(i + 1))
  }
  return [...merged].map(([k, v]) => `${k}=${v}`)
}
