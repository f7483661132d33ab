// Shared fixtures for the agent integration tests: the real agent as a child process with the
// host socket on fd 3, no container.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { Duplex } from 'node:stream'
import { AgentClient, ensureAgentBuilt } from '../src/agent/index.ts'
import type { SandboxProcess, SpawnOptions } from '../src/runtime-driver.ts'

export const isRoot = process.getuid?.() === 0
export const ROOT_SKIP = isRoot ? false : 'needs root (setuid/setgroups in the agent)'

export interface AgentFixture {
  client: AgentClient
  child: ChildProcess
  socket: Duplex
  /** What the agent wrote to its stdout and stderr so far. */
  logs(): string
  /** Closes the client and waits for the agent to exit; SIGKILLs it after 5 s. */
  stop(): Promise<void>
}

export async function startAgent(): Promise<AgentFixture> {
  const path = await ensureAgentBuilt()
  const child = spawn(path, [], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { AGENT_ONLY_VARIABLE: 'must-not-leak' },
  })
  let logs = ''
  child.stdout?.on('data', (b: Buffer) => {
    logs += b.toString()
  })
  child.stderr?.on('data', (b: Buffer) => {
    logs += b.toString()
  })
  const exited = once(child, 'exit')
  const socket = child.stdio[3] as Duplex
  const client = new AgentClient(socket)
  await client.ready(5000)
  return {
    client,
    child,
    socket,
    logs: () => logs,
    async stop() {
      await client.close()
      const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

export const BASE: SpawnOptions = {
  argv: ['true'],
  env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
  cwd: '/',
  uid: 0,
  gid: 0,
  stdin: false,
}

export interface Result {
  stdout: string
  stderr: string
  stdoutBytes: Buffer
  code: number
  signal: number | null
}

/** Collects a process's output until `exit`. */
export function collect(proc: SandboxProcess): Promise<Result> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  proc.on('stdout', (b: Buffer) => out.push(b))
  proc.on('stderr', (b: Buffer) => err.push(b))
  return new Promise((resolve) => {
    proc.once('exit', (code: number, signal: number | null) => {
      const stdoutBytes = Buffer.concat(out)
      resolve({
        stdout: stdoutBytes.toString(),
        stderr: Buffer.concat(err).toString(),
        stdoutBytes,
        code,
        signal,
      })
    })
  })
}

/** Spawns with BASE defaults, optionally feeds stdin and closes it, and waits for the exit. */
export async function run(
  client: AgentClient,
  opts: Partial<SpawnOptions>,
  input?: Buffer,
): Promise<Result> {
  const proc = await client.spawn({ ...BASE, ...opts })
  const result = collect(proc)
  if (input) {
    proc.write(input)
    proc.endStdin()
  }
  return result
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return check()
}
