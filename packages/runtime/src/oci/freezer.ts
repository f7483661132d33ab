import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpritesError } from '@sprites/protocol'
import { CGROUP_ROOT } from '../host/cgroup-layout.ts'
import type { CgroupLayout } from '../runtime-driver.ts'

/** Freezes and thaws every process of one cgroup (the sandbox's), keeping their memory. */
export interface Freezer {
  /** Resolves once every process is frozen; a group that is gone counts as frozen. */
  freeze(): Promise<void>
  /** Resolves once the group runs again. */
  thaw(): Promise<void>
}

export interface FreezerOptions {
  /** @default CGROUP_ROOT */
  root?: string
  /** How long a freeze may take before it is undone and reported. @default 5000 */
  timeoutMs?: number
}

/**
 * The cgroup freezer of a container cgroup (`/<parent>/<id>`): v1 `freezer.state` on v1 and
 * hybrid hosts (the container's cgroup lives in the v1 hierarchies there), v2 `cgroup.freeze`
 * on unified hosts. Freezing waits until the kernel reports the whole group frozen.
 * @example await createFreezer('hybrid', '/sprites/sp-1234').freeze()
 */
export function createFreezer(
  layout: CgroupLayout,
  cgroupPath: string,
  opts: FreezerOptions = {},
): Freezer {
  const root = opts.root ?? CGROUP_ROOT
  const timeoutMs = opts.timeoutMs ?? 5000
  if (layout === 'v2') {
    const dir = join(root, cgroupPath)
    return {
      freeze: () =>
        setAndWait(
          join(dir, 'cgroup.freeze'),
          '1',
          () => v2Frozen(dir),
          timeoutMs,
          () => writeFile(join(dir, 'cgroup.freeze'), '0'),
        ),
      thaw: async () => {
        await writeIfPresent(join(dir, 'cgroup.freeze'), '0')
      },
    }
  }
  const state = join(root, 'freezer', cgroupPath, 'freezer.state')
  return {
    freeze: () =>
      setAndWait(
        state,
        'FROZEN',
        async () => (await readFile(state, 'utf8')).trim() === 'FROZEN',
        timeoutMs,
        () => writeFile(state, 'THAWED'),
      ),
    thaw: async () => {
      await writeIfPresent(state, 'THAWED')
    },
  }
}

async function v2Frozen(dir: string): Promise<boolean> {
  const events = await readFile(join(dir, 'cgroup.events'), 'utf8')
  return /^frozen 1$/m.test(events)
}

/** Writes `value`, then polls `done` (1 ms, then backing off) until it holds or time runs out. */
async function setAndWait(
  file: string,
  value: string,
  done: () => Promise<boolean>,
  timeoutMs: number,
  undo: () => Promise<void>,
): Promise<void> {
  if (!(await writeIfPresent(file, value))) return
  const deadline = Date.now() + timeoutMs
  let wait = 1
  for (;;) {
    try {
      if (await done()) return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    if (Date.now() > deadline) {
      await undo().catch(() => undefined)
      throw new SpritesError('internal', `cgroup did not freeze within ${timeoutMs} ms`, {
        details: { file },
      })
    }
    await sleep(wait)
    wait = Math.min(wait * 2, 20)
  }
}

/** Writes a cgroup control file; false when the cgroup is gone. */
async function writeIfPresent(file: string, value: string): Promise<boolean> {
  try {
    await writeFile(file, value)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
