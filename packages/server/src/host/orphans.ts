import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { HostLogger } from './runtime-sprite-host.ts'

/** Where leftovers of sprites that no longer exist can be found on the host. */
export interface OrphanScanOptions {
  /** `<dataDir>/mnt/<sprite id>` are the sprites' mount points. */
  dataDir: string
  /** Sprite netns are `<netnsPrefix><slot>` under `/run/netns`. */
  netnsPrefix: string
  /**
   * The runtime's private directory: sandboxes have `bundles/<id>` and `crun/<id>` (or `runc/`)
   * there. Sandbox cgroups are not scanned: daemons on one host share that subtree.
   */
  runDir: string
  /** @default /run/netns */
  netnsDir?: string
}

export interface Orphans {
  /** Sprite ids with a mount directory. */
  mountIDs: string[]
  /** Slots with a netns. */
  slots: number[]
  /** Sandbox ids with a bundle or runtime state of this daemon. */
  sandboxIDs: string[]
}

/**
 * Lists what sprites own on the host (mount points, netns, sandbox cgroups), whether or not the
 * store still knows them; reconcile removes the ones it does not.
 */
export function scanHost(o: OrphanScanOptions): Orphans {
  const sandboxIDs = new Set<string>()
  for (const sub of ['bundles', 'crun', 'runc']) {
    for (const id of list(join(o.runDir, sub))) if (id.startsWith('sp-')) sandboxIDs.add(id)
  }
  const slots = list(o.netnsDir ?? '/run/netns')
    .filter((n) => n.startsWith(o.netnsPrefix))
    .map((n) => n.slice(o.netnsPrefix.length))
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
  const mountIDs = list(join(o.dataDir, 'mnt')).filter((n) => n.startsWith('sprite-'))
  return { mountIDs, slots, sandboxIDs: [...sandboxIDs] }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** Logs and swallows a cleanup failure: reconcile goes on with the next item. */
export function warnOnFailure(log: HostLogger, what: string, context: object) {
  return (err: unknown) => log.warn({ err, ...context }, `could not remove ${what}`)
}
