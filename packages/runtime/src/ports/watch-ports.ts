import { EventEmitter } from 'node:events'
import {
  innerPid,
  type ListeningPort,
  readSockets,
  sandboxPids,
  socketOwners,
} from './listening-ports.ts'

export interface WatchPortsOptions {
  /** Host pid of the sandbox's init; its netns is the one watched. */
  sandboxPid: number
  /** @default 500 */
  intervalMs?: number
  /** Pids to search for socket owners. @default the sandbox's cgroup */
  pids?: () => Promise<number[]>
}

/**
 * Polls a sandbox's listening TCP ports. Events: `port_opened` (ListeningPort), `port_closed`
 * (ListeningPort), `error` is never emitted (a vanished sandbox just has no ports).
 */
export interface PortWatcher extends EventEmitter {
  /** The ports known after the last poll. */
  current(): ListeningPort[]
  /** Resolves after the first poll. */
  ready(): Promise<void>
  stop(): void
}

const key = (address: string, port: number) => `${address} ${port}`

/**
 * Starts polling every `intervalMs`. A poll reads `/proc/<pid>/net/tcp{,6}` only; the process
 * fds are searched only for sockets not seen before, so an unchanged sprite costs two reads.
 * @example const w = watchPorts({ sandboxPid: sandbox.pid }); w.on('port_opened', (p) => …)
 */
export function watchPorts(opts: WatchPortsOptions): PortWatcher {
  const emitter = new EventEmitter() as PortWatcher
  const known = new Map<string, ListeningPort & { inode: number }>()
  const pids = opts.pids ?? (() => sandboxPids(opts.sandboxPid))
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const poll = async () => {
    const sockets = await readSockets(opts.sandboxPid)
    const fresh = sockets.filter((s) => known.get(key(s.address, s.port))?.inode !== s.inode)
    const owners = fresh.length
      ? await socketOwners(await pids(), new Set(fresh.map((s) => s.inode)))
      : new Map<number, number>()
    if (stopped) return
    const seen = new Set(sockets.map((s) => key(s.address, s.port)))
    for (const [k, p] of known) {
      if (seen.has(k) && !fresh.some((s) => key(s.address, s.port) === k)) continue
      known.delete(k)
      emitter.emit('port_closed', strip(p))
    }
    for (const s of fresh) {
      const k = key(s.address, s.port)
      if (known.has(k)) continue
      const hostPid = owners.get(s.inode) ?? 0
      const p = { ...s, hostPid, pid: hostPid ? await innerPid(hostPid) : 0 }
      known.set(k, p)
      emitter.emit('port_opened', strip(p))
    }
  }
  const loop = async () => {
    await poll().catch(() => {})
    if (!stopped) timer = setTimeout(loop, opts.intervalMs ?? 500)
  }
  const first = loop()
  emitter.current = () => [...known.values()].map(strip)
  emitter.ready = () => first
  emitter.stop = () => {
    stopped = true
    clearTimeout(timer)
  }
  return emitter
}

function strip(p: ListeningPort & { inode: number }): ListeningPort {
  return { port: p.port, address: p.address, pid: p.pid, hostPid: p.hostPid }
}
