// Starts the real spritesd as a child process, the way a user runs it, for end-to-end tests.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'

const ROOT = new URL('../..', import.meta.url).pathname
/**
 * One instance name per concurrent test run (`SPRITES_E2E_INSTANCE`, default `e2e`): its data
 * directory is shared by the e2e files of that run, so the pool and golden image are built once.
 */
export const INSTANCE = process.env.SPRITES_E2E_INSTANCE ?? 'e2e'

/** Where an instance keeps its state; a test that needs a pool of its own uses its own instance. */
export function instanceDirs(instance: string) {
  return {
    dataDir: `/var/tmp/sprites-${instance}`,
    runDir: `/run/sprites-${instance}`,
    routerNetns: `sprites-${instance}-rt`,
    netnsPrefix: `sp${instance.slice(0, 6)}-`,
  }
}

const DEFAULT_DIRS = instanceDirs(INSTANCE)
export const E2E_DATA_DIR = DEFAULT_DIRS.dataDir
const NETNS_PREFIX = DEFAULT_DIRS.netnsPrefix

/** Unmounts an instance's pool, detaches its loop device and removes its router namespace. */
export function releaseInstance(instance: string): void {
  const d = instanceDirs(instance)
  const pool = join(d.dataDir, 'pool')
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' })
  if (run('mountpoint', ['-q', pool]).status === 0) run('umount', [pool])
  const loops = spawnSync('losetup', ['-j', `${pool}.img`], { encoding: 'utf8' }).stdout ?? ''
  for (const line of loops.split('\n').filter(Boolean))
    run('losetup', ['-d', line.split(':')[0] ?? ''])
  run('ip', ['netns', 'del', d.routerNetns])
}

export interface Spritesd {
  /** Host pid of the spritesd process. */
  pid: number
  baseURL: string
  token: string
  home: string
  /** Environment for running the `sprite` CLI against this server. */
  cliEnv: Record<string, string>
  log(): string
  stop(): Promise<void>
}

/** Loads the official SDK; on Node 20 it needs a global WebSocket with `headers` (undici's). */
export async function loadFlySDK() {
  const g = globalThis as { WebSocket?: unknown }
  g.WebSocket ??= (await import('undici')).WebSocket
  return import('@fly/sprites')
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Node arguments that run a TypeScript file of this repository (path from its root) from source. */
export function tsArgs(file: string, ...args: string[]): string[] {
  return ['--conditions=@sprites/source', '--import', 'tsx', join(ROOT, file), ...args]
}

/**
 * Runs `spritesd <args>` (an operator command such as `token list`) to completion on the
 * instance's data dir, with `env` on top.
 */
export function spritesdCommand(
  args: string[],
  env: Record<string, string> = {},
): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, tsArgs('packages/server/src/main.ts', ...args), {
    env: { ...process.env, SPRITES_DATA_DIR: DEFAULT_DIRS.dataDir, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr }
}

/** Starts spritesd and waits until it answers with its admin token. */
export async function startSpritesd(
  extraEnv: Record<string, string> = {},
  opts: { instance?: string } = {},
): Promise<Spritesd> {
  const dirs = instanceDirs(opts.instance ?? INSTANCE)
  const port = await freePort()
  const home = mkdtempSync(join(tmpdir(), 'sprites-e2e-home-'))
  const env = {
    ...process.env,
    HOME: home,
    SPRITES_LISTEN: `127.0.0.1:${port}`,
    SPRITES_DATA_DIR: dirs.dataDir,
    SPRITES_RUN_DIR: dirs.runDir,
    SPRITES_ROUTER_NETNS: dirs.routerNetns,
    SPRITES_NETNS_PREFIX: dirs.netnsPrefix,
    SPRITES_CLI_CONFIG_PATH: join(home, '.sprites', 'sprites.json'),
    SPRITES_LOG_LEVEL: 'info',
    ...extraEnv,
  }
  const child = spawn(process.execPath, tsArgs('packages/server/src/main.ts', 'serve'), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const baseURL = `http://127.0.0.1:${port}`
  const token = await waitReady(child, baseURL, dirs.dataDir, () => output)
  return {
    pid: child.pid as number,
    baseURL,
    token,
    home,
    cliEnv: { HOME: home, SPRITES_API_URL: baseURL, SPRITE_TOKEN: token },
    log: () => output,
    stop: () => stopSpritesd(child, home),
  }
}

async function waitReady(
  child: ChildProcess,
  baseURL: string,
  dataDir: string,
  out: () => string,
): Promise<string> {
  const deadline = Date.now() + 240_000
  const tokenFile = join(dataDir, 'admin-token')
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`spritesd exited early:\n${out()}`)
    if (existsSync(tokenFile)) {
      const token = readFileSync(tokenFile, 'utf8').trim()
      const ok = await fetch(`${baseURL}/v1/organization`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return token
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`spritesd did not become ready:\n${out()}`)
}

async function stopSpritesd(child: ChildProcess, home: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(t)
  }
  rmSync(home, { recursive: true, force: true })
}

/** Host resources a sprite can leak: loop devices, mounts under the data dir, netns, cgroups. */
export function hostResources(): Record<string, string[]> {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
    } catch {
      return []
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(E2E_DATA_DIR) && !m.endsWith('/pool'))
  return {
    loops: sh('losetup', ['-n', '-O', 'BACK-FILE', '-l']).filter((f) => f.includes('/disks/')),
    mounts,
    netns: sh('ip', ['netns', 'list']).filter((n) => n.startsWith(NETNS_PREFIX)),
    cgroups: sh('find', [
      '/sys/fs/cgroup/pids',
      '-maxdepth',
      '3',
      '-type',
      'd',
      '-path',
      '*sprites*',
      '-name',
      'sp-*',
    ]),
  }
}

/** What {@link sdkSprite} gives a describe block. */
export interface SDKSpriteFixture {
  srv: Spritesd
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  client: any
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  sprite: any
}

/**
 * A live spritesd and one sprite made through the official SDK, for the describe block that
 * calls it: both are created in its `before` and removed in its `after`.
 */
export function sdkSprite(prefix: string, extraEnv: Record<string, string> = {}): SDKSpriteFixture {
  const f = {} as SDKSpriteFixture
  before(async () => {
    const sdk = await loadFlySDK()
    f.srv = await startSpritesd(extraEnv)
    f.client = new sdk.SpritesClient(f.srv.token, { baseURL: f.srv.baseURL })
    f.sprite = await f.client.createSprite(uniqueName(prefix))
  })
  after(async () => {
    await f.sprite?.delete().catch(() => undefined)
    await f.srv?.stop()
  })
  return f
}
