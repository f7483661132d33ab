// `crun run /bin/true` in a minimal busybox bundle: the cost of starting a container at all.
import { existsSync } from 'node:fs'
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  statfs,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Probe } from './probe.ts'
import { mustRun, tryRun } from './proc.ts'

const TMPFS_MAGIC = 0x01021994
const CGROUP2_MAGIC = 0x63677270

/**
 * crun 1.8 refuses hybrid cgroups (v1 on a tmpfs plus cgroup2 at `unified`); hiding the v2 mount
 * in a private mount namespace makes it run in pure v1 mode (host-notes §3.1).
 */
async function isHybridCgroups(): Promise<boolean> {
  const root = await statfs('/sys/fs/cgroup').catch(() => null)
  const unified = await statfs('/sys/fs/cgroup/unified').catch(() => null)
  return root?.type === TMPFS_MAGIC && unified?.type === CGROUP2_MAGIC
}

async function makeBundle(dir: string): Promise<string> {
  const bundle = join(dir, 'bundle')
  const bin = join(bundle, 'rootfs', 'bin')
  await mkdir(bin, { recursive: true })
  await copyFile('/bin/busybox', join(bin, 'busybox'))
  for (const applet of ['true', 'sh']) await symlink('busybox', join(bin, applet))
  await mustRun('crun', ['spec'], { cwd: bundle })
  const configPath = join(bundle, 'config.json')
  const config = JSON.parse(await readFile(configPath, 'utf8')) as {
    process: { terminal: boolean; args: string[] }
  }
  config.process.terminal = false
  config.process.args = ['/bin/true']
  await writeFile(configPath, JSON.stringify(config, null, 2))
  return bundle
}

/** Needs busybox at /bin/busybox (statically linked) and crun on PATH. */
export async function createCrunProbe(): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'sprites-bench-crun-'))
  const stateRoot = join(dir, 'state')
  const ids: string[] = []
  try {
    const bundle = await makeBundle(dir)
    const hybrid = await isHybridCgroups()
    const command = (id: string): [string, string[]] => {
      const crun = ['--root', stateRoot, 'run', '--bundle', bundle, id]
      if (!hybrid) return ['crun', crun]
      const script = 'umount /sys/fs/cgroup/unified && exec crun "$@"'
      return ['unshare', ['-m', 'sh', '-c', script, 'sh', ...crun]]
    }
    return {
      rows: [
        {
          key: 'crun_run_true',
          label: hybrid ? 'crun run /bin/true (unshare -m, v1)' : 'crun run /bin/true',
        },
      ],
      async measure(i) {
        const id = `sprites-bench-${process.pid}-${i}`
        ids.push(id)
        const [cmd, args] = command(id)
        return { crun_run_true: await mustRun(cmd, args) }
      },
      async cleanup() {
        // `crun run` removes a container's state when it exits; only a crashed run leaves one.
        for (const id of ids.filter((id) => existsSync(join(stateRoot, id)))) {
          await tryRun('crun', ['--root', stateRoot, 'delete', '-f', id])
        }
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
