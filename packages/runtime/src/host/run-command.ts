import { spawn } from 'node:child_process'
import { constants } from 'node:os'

/** What a finished command returned. */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs a program with an argument array (never a shell string) and collects its output.
 * `input` is written to its stdin. Resolves with the exit code; a signal gives 128+n.
 */
export type RunCommand = (file: string, args: string[], input?: string) => Promise<CommandResult>

/** The real `RunCommand`, built on `child_process.spawn`. */
export const runCommand: RunCommand = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    if (input !== undefined) child.stdin?.end(input)
  })

/** Runs a command and throws with its stderr when it exits non-zero. */
export async function runChecked(
  run: RunCommand,
  file: string,
  args: string[],
  input?: string,
): Promise<string> {
  const r = await run(file, args, input)
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  }
  return r.stdout
}
