import { DEFAULT_EXEC_ENV } from '@sprites/protocol'
import type { Sandbox, SandboxProcess } from '@sprites/runtime'

/** Environment of the supervisor's own helper processes inside a sprite. */
export const ROOT_ENV = [`PATH=${DEFAULT_EXEC_ENV.PATH}`, 'LANG=C.UTF-8', 'HOME=/root']

/** Result of a finished helper process. */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Spawns a helper as root inside the sprite (the host cannot write into the sprite's disk).
 * With `stdin`, those bytes are the process's whole stdin.
 */
export function spawnRoot(
  sandbox: Sandbox,
  argv: string[],
  stdin = false,
): Promise<SandboxProcess> {
  return sandbox.spawn({ argv, env: ROOT_ENV, cwd: '/', uid: 0, gid: 0, stdin })
}

/** Limits of a helper run by {@link runRoot}: the sprite's root may make it hang or flood. */
export interface RunRootLimits {
  /** Killed (SIGKILL) after this long. @default 30 s */
  timeoutMs?: number
  /** Output kept per stream; the rest is dropped. @default 4 MiB */
  maxOutputBytes?: number
}

const SIGKILL = 9

/**
 * Runs `sh -c script` as root with `args` as `$0…` and waits for it. A helper that outlives
 * `timeoutMs` is killed and reported as failed (code 137, a note on stderr).
 */
export async function runRoot(
  sandbox: Sandbox,
  script: string,
  args: string[],
  input?: string | Buffer,
  limits: RunRootLimits = {},
): Promise<CommandResult> {
  const max = limits.maxOutputBytes ?? 4 * 1024 * 1024
  const proc = await spawnRoot(sandbox, ['sh', '-c', script, ...args], input !== undefined)
  const out = new Capped(max)
  const err = new Capped(max)
  proc.on('stdout', (d: Buffer) => out.push(d))
  proc.on('stderr', (d: Buffer) => err.push(d))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    proc.signal(SIGKILL)
  }, limits.timeoutMs ?? 30_000)
  const exited = new Promise<number>((resolve) =>
    proc.once('exit', (code: number) => resolve(code)),
  )
  if (input !== undefined) {
    proc.write(Buffer.from(input))
    proc.endStdin()
  }
  const code = await exited.finally(() => clearTimeout(timer))
  const stderr = err.text()
  return timedOut
    ? { code: 137, stdout: out.text(), stderr: `${stderr}timed out: the helper was killed\n` }
    : { code, stdout: out.text(), stderr }
}

/** Collects chunks up to `max` bytes. */
class Capped {
  readonly #max: number
  readonly #chunks: Buffer[] = []
  #bytes = 0

  constructor(max: number) {
    this.#max = max
  }

  push(d: Buffer): void {
    if (this.#bytes >= this.#max) return
    const part = d.subarray(0, this.#max - this.#bytes)
    this.#chunks.push(part)
    this.#bytes += part.length
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8')
  }
}
