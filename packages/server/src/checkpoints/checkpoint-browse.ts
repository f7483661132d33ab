import { chown, readdir, rmdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import {
  CHECKPOINT_ID_RE,
  checkpointPath,
  createKeyedQueue,
  defaultExec,
  type ExecFn,
  layoutOf,
} from '@sprites/storage'
import type { SpriteRecord } from '@sprites/store'
import type { Logger } from '../logger.ts'
import {
  makeSharedDir,
  mountedViews,
  mountView,
  stagePath,
  unmountTree,
  unmountView,
} from './checkpoint-views.ts'

/** How many checkpoints a running sprite sees under `/.sprite/checkpoints`. */
export const BROWSE_COUNT = 5

export interface CheckpointBrowserOptions {
  /** The runtime's private directory: views live in `ckpt/<sandbox>`, staging in `ckpt-stage/`. */
  runDir: string
  /** Where the pool with the checkpoint images is (`<dataDir>/pool/checkpoints/...`). */
  dataDir: string
  /** Size of each sprite's uid range. */
  uidCount: number
  /** The checkpoint ids to show, newest first (`CheckpointService.recent`). */
  recent: (sprite: SpriteRecord, count: number) => Promise<string[]>
  log: Logger
  /** @default defaultExec */
  exec?: ExecFn
}

interface Active {
  sprite: SpriteRecord
  dir: string
}

/** Read-only views of a sprite's newest checkpoints (issue 4; docs/checkpoints.md). */
export type CheckpointBrowser = ReturnType<typeof createCheckpointBrowser>

/**
 * Keeps `<runDir>/ckpt/<sandbox>` of every running sprite holding its newest
 * {@link BROWSE_COUNT} checkpoints (not `v0`, not auto ones), each mounted read-only and
 * idmapped to the sprite's uid range. The directory is a shared mount that the sandbox binds at
 * `/.sprite/checkpoints` with slave propagation, so changes show inside at once. The runtime's
 * bind does not carry mounts that exist before the sandbox starts, so the directory starts empty
 * and the views are mounted once the sandbox is up (`changed` on the host's `booted` event).
 * Work for one sprite runs one step at a time; failures are logged and never fail a boot or a
 * checkpoint.
 */
export function createCheckpointBrowser(o: CheckpointBrowserOptions) {
  const exec = o.exec ?? defaultExec
  const root = join(o.runDir, 'ckpt')
  const stageRoot = join(o.runDir, 'ckpt-stage')
  const layout = layoutOf(o.dataDir)
  const queue = createKeyedQueue()
  const active = new Map<string, Active>()
  const pending = new Set<Promise<unknown>>()

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p)
    const done = () => pending.delete(p)
    p.then(done, done)
    return p
  }

  /** Mounts the views missing from `a.dir` and removes those no longer among the newest. */
  async function sync(a: Active): Promise<void> {
    const want = await o.recent(a.sprite, BROWSE_COUNT)
    const have = await mountedViews(a.dir)
    for (const id of have.filter((id) => !want.includes(id))) {
      await unmountView(exec, join(a.dir, id))
    }
    const range = { uidBase: a.sprite.uidBase, uidCount: o.uidCount }
    for (const id of want.filter((id) => !have.includes(id))) {
      const image = checkpointPath(layout, a.sprite.id, id)
      const stage = stagePath(stageRoot, basename(a.dir), id)
      await mountView(exec, image, stage, join(a.dir, id), range)
    }
  }

  async function removeDir(dir: string): Promise<void> {
    await unmountTree(exec, dir)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names.filter((n) => CHECKPOINT_ID_RE.test(n))) {
      await rmdir(join(dir, name)).catch(() => undefined)
    }
    await rmdir(dir).catch(() => undefined)
  }

  function warn(err: unknown, sprite: { id: string }, msg: string): void {
    o.log.warn({ err, spriteID: sprite.id }, msg)
  }

  return {
    /**
     * Before a sandbox starts: makes its shared directory, empty (anything an earlier sandbox
     * left is unmounted first). The result goes into `SandboxSpec.checkpointsDir`; undefined
     * (logged) when the directory could not be made, so the sprite boots without browsing.
     */
    prepare(sprite: SpriteRecord, sandboxID: string): Promise<string | undefined> {
      const dir = join(root, sandboxID)
      const work = queue(sprite.id, async () => {
        try {
          await removeDir(dir)
          await makeSharedDir(exec, dir)
          await chown(dir, sprite.uidBase, sprite.uidBase)
        } catch (err) {
          warn(err, sprite, 'checkpoint browsing unavailable')
          await removeDir(dir).catch(() => undefined)
          return undefined
        }
        active.set(sprite.id, { sprite, dir })
        return dir
      })
      return track(work)
    },

    /**
     * Once the sandbox is up, and after every change of the sprite's checkpoints: refreshes its
     * views if it has a sandbox.
     */
    changed(sprite: SpriteRecord): Promise<void> {
      const work = queue(sprite.id, async () => {
        const a = active.get(sprite.id)
        if (!a) return
        a.sprite = sprite
        await sync(a).catch((err: unknown) => warn(err, sprite, 'checkpoint views not refreshed'))
      })
      return track(work)
    },

    /** When the sandbox stops: unmounts every view and the shared directory. */
    release(spriteID: string): Promise<void> {
      const work = queue(spriteID, async () => {
        const a = active.get(spriteID)
        if (!a) return
        active.delete(spriteID)
        await removeDir(a.dir).catch((err: unknown) => warn(err, { id: spriteID }, 'views left'))
      })
      return track(work)
    },

    /** Unmounts whatever an earlier daemon left (start-up) or is left now (shutdown). */
    async close(): Promise<void> {
      await Promise.allSettled([...pending])
      active.clear()
      await unmountTree(exec, root)
      await unmountTree(exec, stageRoot)
    },
  }
}
