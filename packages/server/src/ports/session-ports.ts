import { readFile } from 'node:fs/promises'
import type { PortEventMessage } from '@sprites/protocol'
import type { ListeningPort } from '@sprites/runtime'
import type { PortHub, PortListener } from './port-hub.ts'

/** Ancestors followed at most when looking for a session's leader. */
const MAX_DEPTH = 64

/** Decides whether host pid `hostPid` belongs to the session led by in-sprite pid `leader`. */
export type OwnsPort = (hostPid: number, leader: number) => Promise<boolean>

/** The `port_opened` / `port_closed` message for a listener (§3.6, §9.2). */
export function portMessage(type: PortEventMessage['type'], p: ListeningPort): PortEventMessage {
  return { type, port: p.port, address: p.address, pid: p.pid }
}

function innermost(field: string | undefined): number {
  const ids = field?.trim().split(/\s+/)
  return ids && ids.length > 0 ? Number(ids[ids.length - 1]) : 0
}

/**
 * True when `hostPid` is in the process tree of the exec session whose leader has the in-sprite
 * pid `leader`: the process is in that session (`NSsid`, the agent starts each exec with
 * `setsid`), or one of its ancestors is the leader (a child that started a session of its own).
 */
export async function inSessionTree(hostPid: number, leader: number, proc = '/proc') {
  let pid = hostPid
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const status = await readFile(`${proc}/${pid}/status`, 'utf8').catch(() => '')
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(status)?.[1]
    const nsPid = field('NSpid')
    if (!nsPid || nsPid.trim().split(/\s+/).length < 2) return false
    const inner = innermost(nsPid)
    if (inner === leader || innermost(field('NSsid')) === leader) return true
    if (inner <= 1) return false
    pid = Number(field('PPid') ?? 0)
  }
  return false
}

const key = (p: ListeningPort) => `${p.address} ${p.port}`

/**
 * Sends `port_opened` / `port_closed` for the listeners of one exec session (§3.6) until the
 * returned function is called. Ports already open in the session when it starts are announced.
 */
export function followSessionPorts(
  hub: PortHub,
  spriteID: string,
  leader: number,
  send: (msg: PortEventMessage) => void,
  owns: OwnsPort = inSessionTree,
): () => void {
  const told = new Set<string>()
  let chain = Promise.resolve()
  let stopped = false
  const queue = (step: () => Promise<void> | void) => {
    chain = chain.then(step).catch(() => {})
  }
  const listener: PortListener = {
    opened: (p) =>
      queue(async () => {
        if (stopped || p.hostPid === 0 || !(await owns(p.hostPid, leader)) || stopped) return
        told.add(key(p))
        send(portMessage('port_opened', p))
      }),
    closed: (p) =>
      queue(() => {
        if (!stopped && told.delete(key(p))) send(portMessage('port_closed', p))
      }),
  }
  const sub = hub.subscribe(spriteID, listener)
  for (const p of hub.current(spriteID)) listener.opened(p)
  return () => {
    stopped = true
    sub.unsubscribe()
  }
}
