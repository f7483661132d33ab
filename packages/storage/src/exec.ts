import { spawn } from 'node:child_process'

/** Options of one command run. */
export interface ExecOptions {
  /** Called with each line the command prints (stdout and stderr), for progress output. */
  onLine?: (line: string) => void
  /** Extra environment variables over the parent's. */
  env?: Record<string, string>
}

export interface ExecResult {
  stdout: string
  stderr: string
}

/** Runs a program without a shell; rejects with an `ExecError` on a non-zero exit. */
export type ExecFn = (
  file: string,
  args: readonly string[],
  opts?: ExecOptions,
) => Promise<ExecResult>

/** A failed command, with its output for the message and for callers that branch on it. */
export class ExecError extends Error {
  readonly file: string
  readonly args: readonly string[]
  readonly exitCode: number | null
  readonly stderr: string
  constructor(file: string, args: readonly string[], exitCode: number | null, stderr: string) {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ')
    super(`${file} ${args.join(' ')} exited with ${exitCode}: ${tail}`)
    this.name = 'ExecError'
    this.file = file
    this.args = args
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

function lineSplitter(onLine: ((line: string) => void) | undefined) {
  let rest = ''
  return (chunk: string, flush = false) => {
    if (!onLine) return
    const lines = (rest + chunk).split('\n')
    rest = flush ? '' : (lines.pop() ?? '')
    for (const line of lines) if (line.trim() !== '') onLine(line)
  }
}

/** The real `ExecFn`, built on `child_process.spawn`. */
export const defaultExec: ExecFn = (file, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const env = opts.env ? { ...process.env, ...opts.env } : process.env
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    const err: string[] = []
    const splitOut = lineSplitter(opts.onLine)
    const splitErr = lineSplitter(opts.onLine)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out.push(d)
      splitOut(d)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err.push(d)
      splitErr(d)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      splitOut('', true)
      splitErr('', true)
      const result = { stdout: out.join(''), stderr: err.join('') }
      if (code === 0) resolve(result)
      else reject(new ExecError(file, args, code, result.stderr || result.stdout))
    })
  })
