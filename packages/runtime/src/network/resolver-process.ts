import { type ChildProcess, spawn } from 'node:child_process'
import { extname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../host/logger.ts'
import type { ResolverConfig, ResolverEvent, ResolverRequest } from './resolver-ipc.ts'

export interface ResolverProcessOptions {
  /** Runs the resolver where it belongs: `['ip', 'netns', 'exec', <router>]`, or `[]` (host mode). */
  prefix: readonly string[]
  config: ResolverConfig
  log: Logger
  /** Called once a process that replaced a dead one is ready: it has no state yet. */
  onRestart: () => Promise<void>
  /** @default 10_000 */
  startTimeoutMs?: number
  /** @default 5000 */
  requestTimeoutMs?: number
}

/** A request before it gets its id. */
type WithoutID<T> = T extends unknown ? Omit<T, 'id'> : never
type Request = WithoutID<ResolverRequest>

interface Pending {
  resolve: () => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

const MAIN = fileURLToPath(
  new URL(`./resolver-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
)
const FIRST_RESTART_MS = 250
const MAX_RESTART_MS = 5000
/** A process that ran this long resets the restart backoff. */
const STABLE_MS = 30_000

/**
 * The sprites' DNS resolver as a child process (resolver-main.ts) talking over Node IPC. It is
 * restarted whenever it dies (with backoff) until {@link stop}; a restarted process is handed
 * its state again through `onRestart`.
 */
export class ResolverProcess {
  readonly #o: ResolverProcessOptions
  #child: ChildProcess | undefined
  #ready: Promise<void> | undefined
  readonly #pending = new Map<number, Pending>()
  #nextID = 1
  #stopped = false
  #restartTimer: NodeJS.Timeout | undefined
  #restartMs = FIRST_RESTART_MS

  constructor(o: ResolverProcessOptions) {
    this.#o = o
  }

  /** Host pid of the running process. */
  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** Starts the process (if it does not run) and waits until it is ready. */
  start(): Promise<void> {
    this.#stopped = false
    if (this.#child && this.#ready) return this.#ready
    const child = this.#spawn()
    const started = Date.now()
    this.#child = child
    this.#ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the resolver did not become ready'))
        child.kill('SIGKILL')
      }, this.#o.startTimeoutMs ?? 10_000)
      child.on('message', (event: ResolverEvent) => {
        if (event.type === 'ready') {
          clearTimeout(timer)
          resolve()
        } else this.#onEvent(event)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`the resolver exited (${signal ?? code}) before it was ready`))
        this.#onExit(child, code, signal, Date.now() - started)
      })
    })
    this.#ready.catch(() => undefined)
    return this.#ready
  }

  /** Sends a request and waits for its answer; rejects when the process is not running. */
  async request(req: Request): Promise<void> {
    const child = this.#child
    if (!child || !this.#ready) throw new Error('the resolver is not running')
    await this.#ready
    const id = this.#nextID++
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`the resolver did not answer ${req.type} in time`))
      }, this.#o.requestTimeoutMs ?? 5000)
      this.#pending.set(id, { resolve, reject, timer })
      child.send({ ...req, id }, (err) => {
        if (err) this.#settle(id, err.message)
      })
    })
  }

  /** Stops the process for good (no restart); resolves once it has exited. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#restartTimer)
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(timer)
  }

  #spawn(): ChildProcess {
    const argv = [...loaderArgs(), MAIN, JSON.stringify(this.#o.config)]
    const [file, ...args] = [...this.#o.prefix, process.execPath, ...argv]
    const child = spawn(file as string, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    child.on('error', (err) => this.#o.log.error({ err }, 'resolver process error'))
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) =>
        this.#o.log.warn({ stream: 'stderr' }, `resolver: ${line}`),
      )
    }
    this.#o.log.info({ pid: child.pid }, 'resolver started')
    return child
  }

  #onEvent(event: ResolverEvent): void {
    if (event.type === 'done') this.#settle(event.id, event.error)
    else if (event.type === 'log') this.#o.log[event.level](event.context, `resolver: ${event.msg}`)
  }

  #settle(id: number, error: string | undefined): void {
    const p = this.#pending.get(id)
    if (!p) return
    this.#pending.delete(id)
    clearTimeout(p.timer)
    if (error === undefined) p.resolve()
    else p.reject(new Error(error))
  }

  #onExit(child: ChildProcess, code: number | null, signal: string | null, ranMs: number): void {
    if (this.#child !== child) return
    this.#child = undefined
    this.#ready = undefined
    for (const id of [...this.#pending.keys()]) this.#settle(id, 'the resolver exited')
    if (this.#stopped) return
    this.#restartMs = ranMs >= STABLE_MS ? FIRST_RESTART_MS : this.#restartMs
    this.#o.log.error({ code, signal, restartInMs: this.#restartMs }, 'resolver died')
    this.#restartTimer = setTimeout(() => {
      this.start().then(
        () => this.#o.onRestart(),
        (err: unknown) => this.#o.log.error({ err }, 'resolver restart failed'),
      )
    }, this.#restartMs)
    this.#restartTimer.unref()
    this.#restartMs = Math.min(MAX_RESTART_MS, this.#restartMs * 2)
  }
}

/** The parts of this process's Node options that load TypeScript sources (tsx, conditions). */
function loaderArgs(): string[] {
  const out: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (/^--(conditions|import|require|loader|experimental-loader)=/.test(a)) out.push(a)
    else if (/^--(conditions|import|require|loader|experimental-loader)$/.test(a)) {
      out.push(a, argv[i + 1] ?? '')
      i++
    } else if (a === '-C') {
      out.push(a, argv[i + 1] ?? '')
      i++
    }
  }
  return out
}
