import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall time from spawn to exit, in milliseconds. */
  elapsedMs: number
}

export interface RunOptions {
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string
  cwd?: string
}

/** Runs a program with an argument array (no shell) and collects its output. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.once('error', reject)
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - start })
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

/** Runs a program and fails unless it exits 0; returns its wall time in milliseconds. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<number> {
  const r = await runProcess(cmd, args, opts)
  if (r.code !== 0) {
    const how = r.signal ?? `exit code ${r.code}`
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${how}): ${r.stderr.trim() || r.stdout.trim()}`,
    )
  }
  return r.elapsedMs
}

/** Runs a program and ignores failure (for best-effort cleanup). */
export async function tryRun(cmd: string, args: string[]): Promise<boolean> {
  const r = await runProcess(cmd, args).catch(() => null)
  return r?.code === 0
}
