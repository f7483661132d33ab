import { readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { cgroupPids } from '../oci/container-cgroups.ts'
import { type ListeningSocket, parseProcNetTCP } from './proc-net-tcp.ts'

/** A TCP port some process of a sprite listens on. */
export interface ListeningPort {
  port: number
  /** The listening IP (`127.0.0.1`, `0.0.0.0`, `::`), what a proxy dials (sprites-api.md D8). */
  address: string
  /** Pid inside the sprite of the process holding the socket; 0 when none was found. */
  pid: number
  /** The same process as seen from the host; 0 when none was found. */
  hostPid: number
}

/** Pids of the sandbox's processes: its init's cgroup (pids controller on v1, unified on v2). */
export async function sandboxPids(sandboxPid: number, cgroupRoot = '/sys/fs/cgroup') {
  let text: string
  try {
    text = await readFile(`/proc/${sandboxPid}/cgroup`, 'utf8')
  } catch {
    return []
  }
  const lines = text.split('\n').map((l) => l.split(':'))
  const v1 = lines.find((l) => l[1]?.split(',').includes('pids'))
  const v2 = lines.find((l) => l[0] === '0' && l[1] === '')
  if (v1?.[2]) return cgroupPids(join(cgroupRoot, 'pids', v1[2]))
  if (v2?.[2]) return cgroupPids(join(cgroupRoot, v2[2]))
  return [sandboxPid]
}

/** Listening sockets of the sandbox's netns, IPv4 then IPv6. */
export async function readSockets(sandboxPid: number): Promise<ListeningSocket[]> {
  const read = (f: string) => readFile(`/proc/${sandboxPid}/net/${f}`, 'utf8').catch(() => '')
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')])
  return [...parseProcNetTCP(v4), ...parseProcNetTCP(v6)]
}

/** Maps socket inodes to the host pid holding them, looking only for `wanted` inodes. */
export async function socketOwners(pids: number[], wanted: Set<number>) {
  const owners = new Map<number, number>()
  for (const pid of pids) {
    if (owners.size === wanted.size) break
    const dir = `/proc/${pid}/fd`
    const fds = await readdir(dir).catch(() => [] as string[])
    for (const fd of fds) {
      const target = await readlink(join(dir, fd)).catch(() => '')
      const m = /^socket:\[(\d+)\]$/.exec(target)
      const inode = m ? Number(m[1]) : 0
      if (wanted.has(inode) && !owners.has(inode)) owners.set(inode, pid)
    }
  }
  return owners
}

/** The pid of `hostPid` in its innermost pid namespace (`NSpid`), 0 if gone. */
export async function innerPid(hostPid: number): Promise<number> {
  const status = await readFile(`/proc/${hostPid}/status`, 'utf8').catch(() => '')
  const m = /^NSpid:\s*(.+)$/m.exec(status)
  const ids = m?.[1]?.trim().split(/\s+/)
  return ids ? Number(ids[ids.length - 1]) : 0
}

/**
 * TCP ports listened on in the sandbox's network namespace (`/proc/<sandboxPid>/net/tcp{,6}`),
 * one entry per (address, port), with the process holding each socket among `cgroupPids`
 * (default: the pids of the sandbox's cgroup).
 * @example await listListeningPorts(sandbox.pid) // [{ port: 8080, address: '0.0.0.0', pid: 41, hostPid: 91234 }]
 */
export async function listListeningPorts(
  sandboxPid: number,
  cgroupPids?: number[],
): Promise<ListeningPort[]> {
  const sockets = dedupe(await readSockets(sandboxPid))
  if (sockets.length === 0) return []
  const pids = cgroupPids ?? (await sandboxPids(sandboxPid))
  const owners = await socketOwners(pids, new Set(sockets.map((s) => s.inode)))
  return Promise.all(
    sockets.map(async (s) => {
      const hostPid = owners.get(s.inode) ?? 0
      return {
        port: s.port,
        address: s.address,
        pid: hostPid ? await innerPid(hostPid) : 0,
        hostPid,
      }
    }),
  )
}

function dedupe(sockets: ListeningSocket[]): ListeningSocket[] {
  const seen = new Map<string, ListeningSocket>()
  for (const s of sockets)
    if (!seen.has(`${s.address} ${s.port}`)) seen.set(`${s.address} ${s.port}`, s)
  return [...seen.values()]
}
