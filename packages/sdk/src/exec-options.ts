import { SpritesError } from '@sprites/protocol'
import type { Query } from './http.ts'

/** Options of `exec()` (§3.2). Omitted fields take the server's defaults. */
export interface ExecOptions {
  /** Allocate a PTY. @default false */
  tty?: boolean
  /** Initial PTY size. @default 24 rows, 80 cols (server) */
  rows?: number
  cols?: number
  /** Extra environment, merged over the sprite's defaults. */
  env?: Record<string, string>
  /** Working directory. @default '/home/sprite' (server) */
  dir?: string
  /** Wire the child's stdin to this connection. @default true with tty, else false (server) */
  stdin?: boolean
  /** Keep a non-TTY session running after a disconnect. @default false */
  detachable?: boolean
  /** How long the session may run with no client attached: Go duration or seconds, `0` = no limit. */
  maxRunAfterDisconnect?: string | number
}

/** Options of `execHTTP()` (§3.12). */
export interface ExecHTTPOptions {
  env?: Record<string, string>
  dir?: string
  /** Bytes for the child's stdin; without it stdin is /dev/null. */
  stdin?: Uint8Array
}

function envList(env: Record<string, string> | undefined): string[] | undefined {
  if (!env) return undefined
  return Object.entries(env).map(([k, v]) => `${k}=${v}`)
}

/**
 * Validates argv and builds the query of an exec request.
 * @throws SpritesError invalid_argument when argv is empty
 */
export function execQuery(argv: readonly string[], o: ExecOptions = {}): Query {
  if (!Array.isArray(argv) || argv.length === 0 || typeof argv[0] !== 'string' || !argv[0]) {
    throw new SpritesError(
      'invalid_argument',
      'exec needs a command: pass argv such as ["ls", "-la"]',
    )
  }
  return {
    cmd: argv,
    path: argv[0],
    tty: o.tty ? true : undefined,
    rows: o.tty ? o.rows : undefined,
    cols: o.tty ? o.cols : undefined,
    env: envList(o.env),
    dir: o.dir,
    stdin: o.stdin,
    detachable: o.detachable,
    max_run_after_disconnect: o.maxRunAfterDisconnect,
  }
}

/** Query of a one-shot HTTP exec. */
export function execHTTPQuery(argv: readonly string[], o: ExecHTTPOptions = {}): Query {
  const { cmd, path } = execQuery(argv)
  return { cmd, path, env: envList(o.env), dir: o.dir, stdin: o.stdin ? true : undefined }
}
