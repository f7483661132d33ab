import type { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'

/** What a sandbox (the container behind one sprite) is made of. */
export interface SandboxSpec {
  /** Internal sandbox id, also the container id: `sp-<12 hex>`. */
  id: string
  /** Hostname inside: the sprite's name. */
  hostname: string
  /** Mounted, idmapped root filesystem (from the VolumeDriver). */
  rootfs: string
  /** Host uid/gid that 0 inside maps to; the range is `uidCount` long. */
  uidBase: number
  uidCount: number
  memoryBytes: number
  cpus: number
  pidsMax: number
  /** Network namespace to join (`/run/netns/<name>`); none means a private empty netns. */
  netnsPath?: string
  /** Read-only host directory mounted at `/.sprite/bin` (agent, sprite-env, shims). */
  spriteBinDir: string
  /**
   * Host directory that is a shared mount, bound read-only (with what is mounted below it) at
   * `/.sprite/checkpoints` with slave propagation: mounts added or removed below it on the host
   * later appear and disappear inside. None leaves `/.sprite/checkpoints` out.
   */
  checkpointsDir?: string
  /**
   * Host directory bound read-only at `/.sprite/policy` (the sprite's policy files, rewritten by
   * the host while it runs). None leaves the image's `/.sprite/policy`.
   */
  policyDir?: string
  /**
   * Host directory bound read-only at `/.sprite/logs` (service logs written by the host, kept
   * outside the sprite's disk). None leaves the image's `/.sprite/logs`.
   */
  logsDir?: string
  /**
   * Name servers of the sandbox's `/etc/resolv.conf`: a file of its own, bound over the image's
   * and writable by root inside (edits last until the sandbox stops). None leaves the image's
   * file (or the driver's fixed one).
   */
  dnsServers?: string[]
}

/** One process to start inside a sandbox. */
export interface SpawnOptions {
  /** argv; argv[0] is what the process sees. */
  argv: string[]
  /** Program to execute; without `/` it is looked up in the PATH of `env`. Defaults to argv[0]. */
  path?: string
  /** Full environment, `KEY=VALUE`. */
  env: string[]
  cwd: string
  uid: number
  gid: number
  /** Supplementary groups. */
  groups?: number[]
  /** Allocate a PTY inside the sandbox with this size. */
  tty?: { rows: number; cols: number }
  /** Wire stdin; false gives /dev/null. */
  stdin: boolean
}

/**
 * A process running inside a sandbox. Output is emitted as it arrives; in TTY mode all output
 * is `stdout`. `exit` fires once, after output has been drained, with the contract's code
 * (0-255, 128+n for signal n).
 *
 * Events: `stdout` (Buffer), `stderr` (Buffer), `exit` (code: number, signal: number | null).
 */
export interface SandboxProcess extends EventEmitter {
  readonly pid: number
  write(data: Buffer): void
  endStdin(): void
  resize(rows: number, cols: number): void
  /** Sends a signal to the process group. */
  signal(signo: number): void
}

/** Who connected to the sprite's `/.sprite/api.sock` (ids as seen inside the sprite). */
export interface SandboxPeer {
  uid: number
  gid: number
  pid: number
}

/**
 * A running sandbox. Events: `exit` (the sandbox's init died or was stopped), `connection`
 * (socket: Duplex, peer: SandboxPeer) for each connection to `/.sprite/api.sock` inside it;
 * without a listener the connection is closed at once.
 */
export interface Sandbox extends EventEmitter {
  readonly id: string
  /** Host pid of the sandbox's init (the in-sprite agent). */
  readonly pid: number
  spawn(opts: SpawnOptions): Promise<SandboxProcess>
  /**
   * Opens a TCP connection from inside the sandbox's network namespace to `host` (an IP address
   * or `localhost`) and `port`. Rejects with the agent's error (`errno`, `syscode`) on failure.
   */
  connect(host: string, port: number): Promise<Duplex>
  /** Kills every process and removes the container and its cgroups. Idempotent. */
  stop(): Promise<void>
  /** Freezes every process (cgroup freezer): no CPU, memory kept. Resolves once all are frozen. */
  freeze(): Promise<void>
  /** Lets frozen processes run again, where they stopped (same pids, same state). */
  thaw(): Promise<void>
}

/** Host cgroup layout, detected once. */
export type CgroupLayout = 'v1' | 'hybrid' | 'v2'

export interface RuntimeDriver {
  readonly name: string
  start(spec: SandboxSpec): Promise<Sandbox>
  /** Removes a container left behind by a previous daemon (start-up reconciliation). */
  cleanup(id: string): Promise<void>
}

/** Per-sprite network: a namespace with a veth to the router namespace and outbound NAT. */
export interface NetworkDriver {
  /**
   * Creates (or re-creates) the sprite's netns; idempotent. With `pid`, the netns of that
   * process (a sandbox started with a netns of its own) is named and wired instead.
   */
  setup(
    slot: number,
    opts?: { pid?: number },
  ): Promise<{ netnsPath: string; address: string; gateway: string }>
  teardown(slot: number): Promise<void>
}
