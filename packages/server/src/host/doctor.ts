import { access, readFile, statfs } from 'node:fs/promises'
import { release } from 'node:os'

export interface Check {
  name: string
  ok: boolean
  /** What was found. */
  detail: string
  /** The exact fix when not ok. */
  fix?: string
  /** A failed required check keeps spritesd from starting sprites. */
  required: boolean
}

export interface DoctorOptions {
  dataDir: string
  /** Free bytes the data directory must have. */
  minFreeBytes?: number
  uid?: number
}

const APT = 'apt-get update && apt-get install -y --no-install-recommends'

/** Checks what this host needs to run sprites and says how to fix each gap. */
export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  return Promise.all([
    checkRoot(o.uid ?? process.getuid?.() ?? -1),
    checkUserNamespaces(),
    checkKernel(),
    checkCgroups(),
    checkBinary('crun', 'crun or runc (OCI runtime)', `${APT} crun`, ['runc']),
    checkBinary('nft', 'nftables', `${APT} nftables`),
    checkBinary('ip', 'iproute2', `${APT} iproute2`),
    checkBinary('mkfs.xfs', 'xfsprogs (reflink storage pool)', `${APT} xfsprogs`),
    checkBinary('mkfs.ext4', 'e2fsprogs (sprite disks)', `${APT} e2fsprogs`),
    checkBinary('mmdebstrap', 'mmdebstrap (base image builds)', `${APT} mmdebstrap`),
    checkBinary('gcc', 'gcc (builds the in-sprite agent)', `${APT} gcc libc6-dev make`),
    checkLoop(),
    checkFreeSpace(o.dataDir, o.minFreeBytes ?? 5 * 1024 ** 3),
  ])
}

/** One line per check, failures with their fix. */
export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => {
      const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn'
      const fix = c.ok || !c.fix ? '' : `\n      fix: ${c.fix}`
      return `[${mark}] ${c.name}: ${c.detail}${fix}`
    })
    .join('\n')
}

async function checkRoot(uid: number): Promise<Check> {
  return {
    name: 'root',
    ok: uid === 0,
    detail: uid === 0 ? 'running as root' : `running as uid ${uid}`,
    fix: 'run spritesd as root (it manages loop devices, mounts, cgroups and namespaces)',
    required: true,
  }
}

async function checkUserNamespaces(): Promise<Check> {
  const max = await readNumber('/proc/sys/user/max_user_namespaces')
  return {
    name: 'user namespaces',
    ok: max !== null && max > 0,
    detail: max === null ? 'not supported by this kernel' : `max_user_namespaces=${max}`,
    fix: 'sysctl -w user.max_user_namespaces=15000 (and a kernel built with CONFIG_USER_NS)',
    required: true,
  }
}

async function checkKernel(): Promise<Check> {
  const [major = 0, minor = 0] = release().split('.').map(Number)
  const ok = major > 5 || (major === 5 && minor >= 12)
  return {
    name: 'kernel',
    ok,
    detail: `Linux ${release()}`,
    fix: 'use Linux 5.12 or newer (idmapped mounts of ext4)',
    required: true,
  }
}

async function checkCgroups(): Promise<Check> {
  const fs = await statfs('/sys/fs/cgroup').catch(() => null)
  const CGROUP2_MAGIC = 0x63677270
  const TMPFS_MAGIC = 0x01021994
  const layout =
    fs === null
      ? 'missing'
      : fs.type === CGROUP2_MAGIC
        ? 'v2 (unified)'
        : fs.type === TMPFS_MAGIC
          ? 'v1/hybrid'
          : 'unknown'
  const v1ok = await exists('/sys/fs/cgroup/memory/memory.limit_in_bytes')
  const ok = layout === 'v2 (unified)' || (layout === 'v1/hybrid' && v1ok)
  return {
    name: 'cgroups',
    ok,
    detail: `layout ${layout}${layout === 'v1/hybrid' ? (v1ok ? ', memory controller mounted' : ', no memory controller') : ''}`,
    fix: 'mount cgroup2 at /sys/fs/cgroup (systemd.unified_cgroup_hierarchy=1) or the v1 controllers',
    required: true,
  }
}

async function checkBinary(
  bin: string,
  what: string,
  fix: string,
  alternatives: string[] = [],
): Promise<Check> {
  for (const b of [bin, ...alternatives]) {
    const found = await which(b)
    if (found) return { name: what, ok: true, detail: found, required: true }
  }
  return { name: what, ok: false, detail: `${bin} not found in PATH`, fix, required: true }
}

async function checkLoop(): Promise<Check> {
  const ok = await exists('/dev/loop-control')
  return {
    name: 'loop devices',
    ok,
    detail: ok ? '/dev/loop-control present' : '/dev/loop-control missing',
    fix: 'use a kernel with CONFIG_BLK_DEV_LOOP, or run on the host, not in a container without /dev access',
    required: true,
  }
}

async function checkFreeSpace(dir: string, min: number): Promise<Check> {
  const probe = await nearestExisting(dir)
  const fs = await statfs(probe).catch(() => null)
  const free = fs ? fs.bavail * fs.bsize : 0
  return {
    name: 'free disk',
    ok: free >= min,
    detail: `${(free / 1024 ** 3).toFixed(1)} GiB free at ${probe}`,
    fix: `free at least ${(min / 1024 ** 3).toFixed(0)} GiB at ${dir} or set SPRITES_DATA_DIR elsewhere`,
    required: false,
  }
}

async function nearestExisting(dir: string): Promise<string> {
  let d = dir
  while (d !== '/' && !(await exists(d))) d = d.slice(0, d.lastIndexOf('/')) || '/'
  return d
}

const BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

async function which(bin: string): Promise<string | null> {
  for (const dir of BIN_DIRS) if (await exists(`${dir}/${bin}`)) return `${dir}/${bin}`
  return null
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  )
}

async function readNumber(p: string): Promise<number | null> {
  const s = await readFile(p, 'utf8').catch(() => null)
  return s === null ? null : Number(s.trim())
}
