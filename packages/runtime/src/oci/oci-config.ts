import type { CgroupLayout, SandboxSpec } from '../runtime-driver.ts'
import { buildSeccompProfile } from './oci-seccomp.ts'
import type { OCIConfig, OCIDeviceRule, OCIMount, OCINamespace, OCIResources } from './oci-spec.ts'

/** Facts about the host that shape a sandbox's OCI config. */
export interface OCIHostOptions {
  layout: CgroupLayout
  /** Top of the runtime's private cgroup subtree. @default 'sprites' */
  cgroupParent?: string
  /** `RLIMIT_NOFILE` soft and hard value; at most the runtime's own hard limit. @default 1024 */
  nofile?: number
  /** Host file bind-mounted read-only at `/etc/resolv.conf`; none leaves the image's file. */
  resolvConfPath?: string
  /** Host directory with `hosts` and `hostname` for this sandbox, bind-mounted read-only in `/etc`. */
  etcDir?: string
  /**
   * Whether the memory controller accounts swap (`memory.memsw.*` on v1, `memory.swap.max` on
   * v2); without it the swap limit is left out, as the runtime could not write it. @default true
   */
  swapAccounting?: boolean
  /** Node's `process.arch` naming; picks the seccomp architecture. @default process.arch */
  arch?: string
}

/** The sprite's init: the in-sprite agent, from the read-only `/.sprite/bin`. */
export const AGENT_PATH_IN_SPRITE = '/.sprite/bin/sprite-agent'

/** Where the host's read-only checkpoint views appear inside a sprite. */
export const CHECKPOINTS_PATH_IN_SPRITE = '/.sprite/checkpoints'

/** Where the host's read-only policy files appear inside a sprite. */
export const POLICY_PATH_IN_SPRITE = '/.sprite/policy'

/** Where the host's read-only service logs appear inside a sprite. */
export const LOGS_PATH_IN_SPRITE = '/.sprite/logs'

export const SPRITE_PATH_ENV =
  'PATH=/.sprite/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * Capabilities of root inside a sprite: what a normal Linux userland needs for sudo, package
 * installs and servers on low ports. Everything that reaches beyond the sprite's own namespaces
 * (SYS_ADMIN, SYS_PTRACE, SYS_MODULE, NET_ADMIN, NET_RAW, SYS_RAWIO, SYS_TIME, ...) is absent
 * from every set, the bounding set included, so no exec can regain it.
 */
export const SPRITE_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_AUDIT_WRITE',
  'CAP_SETFCAP',
]

/** Docker's default masked paths: kernel state that leaks host information. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
  // Block devices are not namespaced: every sprite's loop device, and its backing file naming
  // the sprite's id, would show here.
  '/sys/block',
  '/sys/class/block',
  '/sys/dev/block',
  '/sys/devices/virtual/block',
]

/** Docker's default read-only paths: kernel knobs a sprite may read but never set. */
export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
]

/** Character devices a sprite may open: null, zero, full, random, urandom, tty, ptmx, pts/*. */
export const ALLOWED_DEVICES: readonly OCIDeviceRule[] = [
  ...[3, 5, 7, 8, 9].map((minor) => charDevice(1, minor)),
  charDevice(5, 0),
  charDevice(5, 2),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
]

const CPU_PERIOD_US = 100_000

/**
 * Builds the OCI runtime config of one sandbox. Pure: the same inputs give the same config.
 *
 * Root inside runs in its own user namespace (0 → `spec.uidBase`, `spec.uidCount` ids), holds
 * only `SPRITE_CAPABILITIES` and runs under `buildSeccompProfile()`. `noNewPrivileges` is off
 * because passwordless `sudo` inside needs setuid-root binaries to work; the privilege that
 * setuid grants is root of the sprite's user namespace, bounded by the same capability
 * bounding set and seccomp filter, so it never reaches the host.
 *
 * @example
 * const config = buildOCIConfig(spec, { layout: detectCgroupLayout() })
 */
export function buildOCIConfig(spec: SandboxSpec, host: OCIHostOptions): OCIConfig {
  const nofile = host.nofile ?? 1024
  const caps = [...SPRITE_CAPABILITIES]
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [AGENT_PATH_IN_SPRITE],
      env: [SPRITE_PATH_ENV, 'HOME=/root'],
      cwd: '/',
      capabilities: {
        bounding: caps,
        effective: caps,
        permitted: caps,
        inheritable: [],
        ambient: [],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile }],
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname: spec.hostname,
    mounts: buildMounts(spec, host),
    linux: {
      uidMappings: [{ containerID: 0, hostID: spec.uidBase, size: spec.uidCount }],
      gidMappings: [{ containerID: 0, hostID: spec.uidBase, size: spec.uidCount }],
      namespaces: buildNamespaces(spec),
      resources: buildResources(spec, host.swapAccounting ?? true),
      cgroupsPath: containerCgroupPath(spec.id, host.cgroupParent),
      seccomp: buildSeccompProfile(host.arch),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      // crun makes every mount private before binding; slave keeps the checkpoints bind a
      // receiver of the host's later mounts (nothing ever propagates back to the host).
      ...(spec.checkpointsDir ? { rootfsPropagation: 'rslave' } : {}),
    },
  }
}

/** The sandbox's cgroup, relative to each hierarchy's root: `/<parent>/<id>`. */
export function containerCgroupPath(id: string, parent = 'sprites'): string {
  return `/${parent}/${id}`
}

function buildNamespaces(spec: SandboxSpec): OCINamespace[] {
  const network: OCINamespace = spec.netnsPath
    ? { type: 'network', path: spec.netnsPath }
    : { type: 'network' }
  return [
    { type: 'user' },
    { type: 'pid' },
    { type: 'mount' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'cgroup' },
    network,
  ]
}

function buildMounts(spec: SandboxSpec, host: OCIHostOptions): OCIMount[] {
  const mounts: OCIMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    tmpfs('/dev', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    tmpfs('/dev/shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']),
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', 'ro'],
    },
    bind(spec.spriteBinDir, '/.sprite/bin'),
    tmpfs('/.sprite/tmp', ['nosuid', 'nodev', 'mode=1777', 'size=16m']),
  ]
  if (spec.checkpointsDir) {
    mounts.push({
      destination: CHECKPOINTS_PATH_IN_SPRITE,
      type: 'bind',
      source: spec.checkpointsDir,
      options: ['rbind', 'ro', 'nosuid', 'nodev', 'rslave'],
    })
  }
  if (spec.policyDir) mounts.push(bind(spec.policyDir, POLICY_PATH_IN_SPRITE))
  if (spec.logsDir) mounts.push(bind(spec.logsDir, LOGS_PATH_IN_SPRITE))
  if (host.etcDir && spec.dnsServers && spec.dnsServers.length > 0) {
    // The sandbox's own file (see SandboxSpec.dnsServers): writable, unlike the other binds.
    mounts.push({
      destination: '/etc/resolv.conf',
      type: 'bind',
      source: `${host.etcDir}/resolv.conf`,
      options: ['bind', 'nosuid', 'nodev', 'noexec'],
    })
  } else if (host.resolvConfPath) mounts.push(bind(host.resolvConfPath, '/etc/resolv.conf'))
  if (host.etcDir) {
    mounts.push(bind(`${host.etcDir}/hosts`, '/etc/hosts'))
    mounts.push(bind(`${host.etcDir}/hostname`, '/etc/hostname'))
  }
  return mounts
}

/**
 * Limits in OCI terms, which crun and runc write to v1 controllers or translate to v2 files
 * (`memory.max`, `memory.swap.max`, `cpu.max`, `pids.max`, an eBPF device filter). `swap` is
 * memory plus swap, so equal values mean no swap on both layouts.
 */
function buildResources(spec: SandboxSpec, swapAccounting: boolean): OCIResources {
  const memory = swapAccounting
    ? { limit: spec.memoryBytes, swap: spec.memoryBytes }
    : { limit: spec.memoryBytes }
  return {
    memory,
    cpu: { quota: Math.round(spec.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US },
    pids: { limit: spec.pidsMax },
    devices: [{ allow: false, access: 'rwm' }, ...ALLOWED_DEVICES],
  }
}

function tmpfs(destination: string, options: string[]): OCIMount {
  return { destination, type: 'tmpfs', source: 'tmpfs', options }
}

function bind(source: string, destination: string): OCIMount {
  return { destination, type: 'bind', source, options: ['bind', 'ro', 'nosuid', 'nodev'] }
}

function charDevice(major: number, minor: number): OCIDeviceRule {
  return { allow: true, type: 'c', major, minor, access: 'rwm' }
}
