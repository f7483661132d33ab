import { readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { listCgroupHierarchies } from '../host/cgroup-layout.ts'
import type { CgroupLayout } from '../runtime-driver.ts'

/** Every directory of one container cgroup, one per hierarchy (`/<parent>/<id>` in each). */
export function containerCgroupDirs(
  layout: CgroupLayout,
  cgroupPath: string,
  root?: string,
): string[] {
  return listCgroupHierarchies(layout, root).map((h) => join(h, cgroupPath))
}

/** Pids in a cgroup directory and its descendants; an absent directory has none. */
export async function cgroupPids(dir: string): Promise<number[]> {
  let procs: string
  try {
    procs = await readFile(join(dir, 'cgroup.procs'), 'utf8')
  } catch {
    return []
  }
  const pids = procs.split('\n').filter(Boolean).map(Number)
  for (const child of await subdirs(dir)) pids.push(...(await cgroupPids(join(dir, child))))
  return pids
}

/**
 * Kills every process of the cgroup: through `cgroup.kill` where the kernel offers it (v2 and
 * the hybrid `unified` mount), else by SIGKILL to each pid, repeated until the group is empty
 * so that forks racing the kill are caught too. A frozen group (a warm sprite) is thawed after
 * the signals so that its processes run into them. Gives up after `timeoutMs`.
 */
export async function killCgroup(dirs: string[], timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let alive = 0
    for (const dir of dirs) {
      const pids = await cgroupPids(dir)
      alive += pids.length
      if (pids.length > 0 && !(await writeCgroupKill(dir))) {
        for (const pid of pids) killQuietly(pid)
      }
      if (pids.length > 0) await thawQuietly(dir)
    }
    if (alive === 0) return true
    if (Date.now() > deadline) return false
    await sleep(10)
  }
}

/** Removes the cgroup directories, leaves first; retries while the kernel still reaps tasks. */
export async function removeCgroupDirs(dirs: string[], timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (const dir of dirs) {
    for (;;) {
      try {
        await removeTree(dir)
        break
      } catch (err) {
        if (Date.now() > deadline) throw err
        await sleep(10)
      }
    }
  }
}

async function removeTree(dir: string): Promise<void> {
  for (const child of await subdirs(dir)) await removeTree(join(dir, child))
  try {
    await rmdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries.filter((e) => e.isDirectory()).map((e) => e.name)
  } catch {
    return []
  }
}

async function writeCgroupKill(dir: string): Promise<boolean> {
  const file = join(dir, 'cgroup.kill')
  try {
    await stat(file)
    await writeFile(file, '1')
    return true
  } catch {
    return false
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** Thaws a cgroup through whichever freezer file it has (v1 `freezer.state`, v2 `cgroup.freeze`). */
async function thawQuietly(dir: string): Promise<void> {
  await writeFile(join(dir, 'freezer.state'), 'THAWED').catch(() => undefined)
  await writeFile(join(dir, 'cgroup.freeze'), '0').catch(() => undefined)
}
