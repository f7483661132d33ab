import { existsSync, readdirSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import type { CgroupLayout } from '../runtime-driver.ts'

/** Filesystem magic numbers, as `stat -fc %t` prints them (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270
const TMPFS_MAGIC = 0x01021994

/** Where the host's cgroup filesystems are mounted. */
export const CGROUP_ROOT = '/sys/fs/cgroup'

/**
 * Detects the host's cgroup layout the way `stat -fc %T /sys/fs/cgroup` does: `cgroup2fs` is a
 * unified (v2) host; a tmpfs of v1 hierarchies is `hybrid` when cgroup2 is also mounted at
 * `unified/`, else `v1`.
 */
export function detectCgroupLayout(root = CGROUP_ROOT): CgroupLayout {
  const type = statfsSync(root).type
  if (type === CGROUP2_SUPER_MAGIC) return 'v2'
  if (type !== TMPFS_MAGIC) return 'v1'
  try {
    return statfsSync(join(root, 'unified')).type === CGROUP2_SUPER_MAGIC ? 'hybrid' : 'v1'
  } catch {
    return 'v1'
  }
}

/**
 * The cgroup hierarchies a container's cgroup may live in, as directories under `root`: the
 * root itself on v2; otherwise every v1 hierarchy (controllers and named ones such as
 * `systemd`) plus, on hybrid hosts, the v2 `unified` mount, where runc also places containers.
 * Symlinks such as `cpu,cpuacct` aliases are skipped.
 */
export function listCgroupHierarchies(layout: CgroupLayout, root = CGROUP_ROOT): string[] {
  if (layout === 'v2') return [root]
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, d.name))
    .sort()
}

/**
 * Whether the memory controller accounts swap, so a container's swap limit can be written:
 * `memory.memsw.limit_in_bytes` on v1 and hybrid hosts; v2 hosts are assumed to have it.
 */
export function hasSwapAccounting(layout: CgroupLayout, root = CGROUP_ROOT): boolean {
  if (layout === 'v2') return true
  return existsSync(join(root, 'memory', 'memory.memsw.limit_in_bytes'))
}
