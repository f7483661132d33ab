import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Duplex, Readable } from 'node:stream'
import { SpritesError } from '@sprites/protocol'
import { detectCgroupLayout, hasSwapAccounting } from '../host/cgroup-layout.ts'
import { type Logger, NOOP_LOGGER } from '../host/logger.ts'
import { readNofileHardLimit } from '../host/process-limits.ts'
import { type RunCommand, runCommand } from '../host/run-command.ts'
import type { CgroupLayout, RuntimeDriver, Sandbox, SandboxSpec } from '../runtime-driver.ts'
import { type AgentPort, type CreateAgent, createAgentClient } from './agent-port.ts'
import { containerCgroupDirs, killCgroup, removeCgroupDirs } from './container-cgroups.ts'
import { createFreezer } from './freezer.ts'
import { buildOCIConfig, containerCgroupPath, type OCIHostOptions } from './oci-config.ts'
import { OCISandbox } from './oci-sandbox.ts'
import { type RuntimeBinary, runArgs, runtimeCommand } from './runtime-command.ts'

export interface CrunDriverOptions {
  /** Private state: bundles under `bundles/<id>`, the runtime's state under `crun/` or `runc/`. */
  runDir: string
  log?: Logger
  /** @default 'crun' when it is on the PATH, else 'runc' */
  runtimeBinary?: RuntimeBinary
  /** Runs the runtime's short commands (`delete`, ...). @default runCommand */
  exec?: RunCommand
  /** @default detectCgroupLayout() */
  layout?: CgroupLayout
  /** Top of the private cgroup subtree. @default 'sprites' */
  cgroupParent?: string
  /** How long the agent may take to send READY. @default 10_000 */
  readyTimeoutMs?: number
  /** Host file bind-mounted at `/etc/resolv.conf` in every sandbox. */
  resolvConfPath?: string
  /** @default createAgentClient (the real agent client) */
  createAgent?: CreateAgent
}

/** Upper bound of `RLIMIT_NOFILE` inside a sprite, below the runtime's own hard limit. */
const MAX_NOFILE = 65_536
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/**
 * A RuntimeDriver that runs each sandbox as an OCI container through crun (runc when crun is
 * missing), with the agent as init on fd 3. State stays under `runDir`, cgroups under
 * `/<cgroupParent>/<id>` in every hierarchy.
 *
 * @throws SpritesError `invalid_argument` for an unusable id; `internal` when the runtime fails
 *   or the agent sends no READY in time (the half-started container is removed first).
 * @example
 * const driver = createCrunDriver({ runDir: '/run/sprites' })
 * const sandbox = await driver.start(spec)
 */
export function createCrunDriver(options: CrunDriverOptions): RuntimeDriver {
  const runtime = options.runtimeBinary ?? (isOnPath('crun') ? 'crun' : 'runc')
  const layout = options.layout ?? detectCgroupLayout()
  const ctx: DriverContext = {
    runtime,
    layout,
    log: (options.log ?? NOOP_LOGGER).child({ driver: runtime }),
    exec: options.exec ?? runCommand,
    stateDir: join(options.runDir, runtime),
    bundlesDir: join(options.runDir, 'bundles'),
    etcRoot: join(options.runDir, 'etc'),
    cgroupParent: options.cgroupParent ?? 'sprites',
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    createAgent: options.createAgent ?? createAgentClient,
    hostOptions: {
      layout,
      cgroupParent: options.cgroupParent ?? 'sprites',
      nofile: Math.min(MAX_NOFILE, readNofileHardLimit()),
      resolvConfPath: options.resolvConfPath,
      swapAccounting: hasSwapAccounting(layout),
    },
  }
  return {
    name: runtime,
    start: (spec) => startSandbox(ctx, spec),
    cleanup: (id) => destroyContainer(ctx, checkID(id)),
  }
}

interface DriverContext {
  runtime: RuntimeBinary
  layout: CgroupLayout
  log: Logger
  exec: RunCommand
  stateDir: string
  bundlesDir: string
  etcRoot: string
  cgroupParent: string
  readyTimeoutMs: number
  createAgent: CreateAgent
  hostOptions: OCIHostOptions
}

async function startSandbox(ctx: DriverContext, spec: SandboxSpec): Promise<Sandbox> {
  const id = checkID(spec.id)
  const log = ctx.log.child({ sandboxID: id })
  const bundleDir = join(ctx.bundlesDir, id)
  await mkdir(bundleDir, { recursive: true, mode: 0o700 })
  const etcDir = await writeEtcFiles(ctx, id, spec)
  const config = buildOCIConfig(spec, { ...ctx.hostOptions, etcDir })
  await writeFile(join(bundleDir, 'config.json'), JSON.stringify(config))
  const destroy = () => destroyContainer(ctx, id)
  let agent: AgentPort | undefined
  try {
    const started = await runContainer(ctx, bundleDir, id, log)
    agent = started.agent
    const { pid } = started
    const version = await agent.ready(ctx.readyTimeoutMs)
    log.info({ pid, agentVersion: version }, 'sandbox started')
    const freezer = createFreezer(ctx.layout, containerCgroupPath(id, ctx.cgroupParent))
    return new OCISandbox(id, pid, version, agent, destroy, freezer)
  } catch (err) {
    void agent?.close()
    await destroy().catch((e: unknown) => log.warn({ err: e }, 'cleanup after failed start'))
    if (err instanceof SpritesError) throw err
    throw new SpritesError('internal', `sandbox ${id} did not start: ${errorMessage(err)}`, {
      cause: err,
      details: { id },
    })
  }
}

/**
 * Starts the container detached and waits for the runtime to exit. The container keeps the
 * runtime's stdout and stderr (the agent's log) and fd 3, the agent's socket, on which the
 * agent client is created at once.
 */
async function runContainer(
  ctx: DriverContext,
  bundleDir: string,
  id: string,
  log: Logger,
): Promise<{ pid: number; agent: AgentPort }> {
  const pidFile = join(bundleDir, 'pid')
  const cmd = runtimeCommand(ctx.runtime, ctx.layout, ctx.stateDir, runArgs(bundleDir, pidFile, id))
  const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
  const agent = ctx.createAgent(child.stdio[3] as Duplex, log)
  const output: string[] = []
  forwardLines(child.stdout, log, 'stdout', output)
  forwardLines(child.stderr, log, 'stderr', output)
  const code = await exitCode(child)
  if (code !== 0) {
    void agent.close()
    throw new SpritesError('internal', `${ctx.runtime} run exited ${code}: ${output.join('; ')}`, {
      details: { id, runtime: ctx.runtime },
    })
  }
  const pid = Number((await readFile(pidFile, 'utf8')).trim())
  return { pid, agent }
}

/** Logs each line of a stream; keeps the first lines for error messages. */
function forwardLines(stream: Readable | null, log: Logger, name: string, keep: string[]): void {
  if (!stream) return
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    if (keep.length < 20) keep.push(line)
    log.debug({ stream: name }, line)
  })
}

function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

/**
 * Kills every process of the container, deletes the runtime's state, the cgroup directories
 * and the bundle. Safe to call for a container that is gone or never existed.
 */
async function destroyContainer(ctx: DriverContext, id: string): Promise<void> {
  const dirs = containerCgroupDirs(ctx.layout, containerCgroupPath(id, ctx.cgroupParent))
  const bundleDir = join(ctx.bundlesDir, id)
  await killPidFile(join(bundleDir, 'pid'))
  if (!(await killCgroup(dirs))) ctx.log.warn({ sandboxID: id }, 'processes survived SIGKILL')
  const cmd = runtimeCommand(ctx.runtime, ctx.layout, ctx.stateDir, ['delete', '-f', id])
  const r = await ctx.exec(cmd.file, cmd.args)
  if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
    ctx.log.warn({ sandboxID: id, stderr: r.stderr.trim() }, `${ctx.runtime} delete failed`)
  }
  await removeCgroupDirs(dirs)
  await rm(bundleDir, { recursive: true, force: true })
  await rm(join(ctx.etcRoot, id), { recursive: true, force: true })
}

/**
 * `/etc/hosts` and `/etc/hostname` naming the sprite, so tools that resolve their own host name
 * (sudo, for one) work, and `resolv.conf` when the spec names DNS servers (owned by the
 * sandbox's root, so it can edit it). Readable through the sandbox's user namespace:
 * world-searchable dirs.
 */
async function writeEtcFiles(ctx: DriverContext, id: string, spec: SandboxSpec): Promise<string> {
  const { hostname, dnsServers } = spec
  await mkdir(ctx.etcRoot, { recursive: true, mode: 0o755 })
  await chmod(ctx.etcRoot, 0o755)
  const dir = join(ctx.etcRoot, id)
  await mkdir(dir, { recursive: true, mode: 0o755 })
  const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`
  await writeFile(join(dir, 'hosts'), hosts, { mode: 0o644 })
  await writeFile(join(dir, 'hostname'), `${hostname}\n`, { mode: 0o644 })
  if (dnsServers && dnsServers.length > 0) {
    const resolv = join(dir, 'resolv.conf')
    await writeFile(resolv, dnsServers.map((s) => `nameserver ${s}\n`).join(''), { mode: 0o644 })
    await chown(resolv, spec.uidBase, spec.uidBase)
  }
  return dir
}

/** SIGKILL to the recorded init: its pid namespace dies with it. */
async function killPidFile(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim())
  if (!Number.isSafeInteger(pid) || pid <= 1) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

function checkID(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new SpritesError(
      'invalid_argument',
      `sandbox id ${JSON.stringify(id)} is not usable as a container id`,
    )
  }
  return id
}

function isOnPath(program: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
