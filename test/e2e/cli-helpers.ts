// Drives the `sprite` CLI as a user would: as a child process, or inside a tmux terminal.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = new URL('../..', import.meta.url).pathname
/** The CLI launcher, as `npx sprite` runs it. */
export const SPRITE_BIN = join(ROOT, 'packages/cli/bin/sprite.js')
const RUN_TIMEOUT_MS = 60_000

export interface CLIResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  env: Record<string, string>
  cwd?: string
  /** Bytes for stdin; stdin is closed right after (an empty pipe when omitted). */
  input?: string
  timeoutMs?: number
}

/**
 * Runs `sprite <args>` with only the given environment (plus PATH), so nothing leaks in from the
 * test process. Kills the child (by its pid) when it outlives the timeout.
 */
export function runCLI(args: readonly string[], o: RunOptions): Promise<CLIResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...o.env }
  const child = spawn(process.execPath, [SPRITE_BIN, ...args], {
    env,
    cwd: o.cwd ?? ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdin.on('error', () => undefined)
  child.stdin.end(o.input ?? '')
  const timeoutMs = o.timeoutMs ?? RUN_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`sprite ${args.join(' ')} timed out after ${timeoutMs} ms:\n${stderr}`))
    }, timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** Polls `check` every 100 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await check()
    if (last) return last as NonNullable<T>
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`)
}

/** True when an error output is a single `error: …` line with no stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.trimEnd().split('\n')
  return lines.length === 1 && /^error: \S/.test(lines[0] ?? '') && !/\bat .+:\d+:\d+/.test(stderr)
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

const EXIT_MARK = '[sprite exited '
const EXIT_RE = /^\[sprite exited (\d+)\]$/m

/** A tmux session running one command in a terminal of a fixed size; `kill()` is idempotent. */
export interface TmuxTerm {
  readonly name: string
  /** Screen plus scrollback as plain text. */
  capture(): string
  sendKeys(...keys: string[]): void
  /** Types text literally, then Enter. */
  typeLine(text: string): void
  resize(cols: number, rows: number): void
  /** The command's exit status once it has exited, else null. */
  exitStatus(): number | null
  /** Pane state for failure messages. */
  describe(): string
  kill(): void
}

/** A tmux server of our own (`-S` in a temp dir), so no other tmux user is touched. */
let tmuxDir: string | undefined

function tmux(args: string[]): string {
  tmuxDir ??= mkdtempSync(join(tmpdir(), 'sprites-cli-tmux-'))
  return execFileSync('tmux', ['-S', join(tmuxDir, 'socket'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/**
 * Starts `env K=V … node sprite.js <args>` in a detached tmux session named `name`, with a
 * `cols`×`rows` terminal. The pane is kept after the command exits so its status can be read.
 */
export function startTmux(
  name: string,
  args: readonly string[],
  o: { env: Record<string, string>; cwd?: string; cols?: number; rows?: number },
): TmuxTerm {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', ...o.env }
  const assigns = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`))
  const cli = ['env', '-i', ...assigns, process.execPath, SPRITE_BIN, ...args.map(shellQuote)]
  // tmux's own #{pane_dead_status} sometimes stays empty after the pane died: print the status.
  const cmd = [...cli, ';', 'echo', `"${EXIT_MARK}$?]"`]
  const cols = String(o.cols ?? 120)
  const rows = String(o.rows ?? 40)
  // The option is set in the same tmux invocation, before the command can possibly exit.
  tmux([
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    cols,
    '-y',
    rows,
    '-c',
    o.cwd ?? ROOT,
    cmd.join(' '),
    ';',
    'set-option',
    '-t',
    name,
    'remain-on-exit',
    'on',
    ';',
    'set-option',
    '-t',
    name,
    'history-limit',
    '5000',
    ';',
    'set-option',
    '-t',
    name,
    'status',
    'off',
  ])
  let killed = false
  const pane = (format: string) => tmux(['display-message', '-p', '-t', name, format]).trim()
  return {
    name,
    capture: () => tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', name]),
    sendKeys: (...keys) => void tmux(['send-keys', '-t', name, ...keys]),
    typeLine(text) {
      tmux(['send-keys', '-t', name, '-l', text])
      tmux(['send-keys', '-t', name, 'Enter'])
    },
    resize: (c, r) => void tmux(['resize-window', '-t', name, '-x', String(c), '-y', String(r)]),
    exitStatus() {
      const m = tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', name]).match(EXIT_RE)
      return m ? Number(m[1]) : null
    },
    describe: () =>
      pane(
        'pid=#{pane_pid} dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal}',
      ),
    kill() {
      if (killed) return
      killed = true
      try {
        tmux(['kill-session', '-t', `=${name}`])
      } catch {
        // already gone
      }
    },
  }
}

/**
 * Removes the private tmux socket directory; call after killing every session. The server exits by
 * itself once its last session is gone.
 */
export function removeTmuxSocket(): void {
  if (tmuxDir) rmSync(tmuxDir, { recursive: true, force: true })
  tmuxDir = undefined
}

/** True when tmux can be run here. */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
