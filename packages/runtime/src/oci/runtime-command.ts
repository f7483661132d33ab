import type { CgroupLayout } from '../runtime-driver.ts'

/** The OCI runtimes the driver can use. */
export type RuntimeBinary = 'crun' | 'runc'

/**
 * crun 1.8 refuses hybrid hosts while a v2 hierarchy is mounted; in a mount namespace of its
 * own with `/sys/fs/cgroup/unified` unmounted it runs in pure v1 mode. The script is fixed: the
 * runtime and its arguments arrive as positional parameters, never interpolated.
 */
const HIDE_UNIFIED_SCRIPT = 'umount /sys/fs/cgroup/unified && exec "$0" "$@"'

/** A program and its argument array. */
export interface Command {
  file: string
  args: string[]
}

/**
 * The command that runs `runtime --root <stateDir> <args>` on this host: crun on a hybrid host
 * goes through `unshare -m --propagation slave` with the v2 mount hidden; runc and v1/v2 hosts
 * run directly. Slave (not unshare's default, private) lets a container keep receiving the
 * host's mounts below a shared directory (`SandboxSpec.checkpointsDir`); the unmount inside
 * never reaches the host, as a slave propagates nothing back.
 */
export function runtimeCommand(
  runtime: RuntimeBinary,
  layout: CgroupLayout,
  stateDir: string,
  args: string[],
): Command {
  const direct = ['--root', stateDir, ...args]
  if (runtime === 'crun' && layout === 'hybrid') {
    return {
      file: 'unshare',
      args: ['-m', '--propagation', 'slave', 'sh', '-c', HIDE_UNIFIED_SCRIPT, runtime, ...direct],
    }
  }
  return { file: runtime, args: direct }
}

/** Arguments of a detached `run` that hands fd 3 to the container and writes its pid. */
export function runArgs(bundleDir: string, pidFile: string, id: string): string[] {
  return ['run', '-d', '--preserve-fds', '1', '--bundle', bundleDir, '--pid-file', pidFile, id]
}
