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

/** Runs `sh -c script` as root with `args` as `$0…` and waits for it. */
export async function runRoot(
  sandbox: Sandbox,
  script: string,
  args: string[],
  input?: string | Buffer,
): Promise<CommandResult> {
  const proc = await spawnRoot(sandbox, ['sh', '-c', script, ...args], input !== undefined)
  const out: Buffer[] = []
  const err: Buffer[] = []
  proc.on('stdout', (d: Buffer) => out.push(d))
  proc.on('stderr', (d: Buffer) => err.push(d))
  const exited = new Promise<number>((resolve) =>
    proc.once('exit', (code: number) => resolve(code)),
  )
  if (input !== undefined) {
    proc.write(Buffer.from(input))
    proc.endStdin()
  }
  const code = await exited
  return {
    code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  }
}
