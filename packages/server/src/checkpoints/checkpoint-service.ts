import type { SpriteStatus } from '@sprites/protocol'
import { SpritesError } from '@sprites/protocol'
import { createKeyedQueue, type VolumeDriver } from '@sprites/storage'
import type { CheckpointRecord, SpriteRecord, Store } from '@sprites/store'
import type { Logger } from '../logger.ts'
import { AUTO_KEEP, checkpointNotFound, resolveCheckpointID } from './checkpoint-ids.ts'
import { type CheckpointWire, checkpointToWire, inHistory } from './checkpoint-wire.ts'

/** What the checkpoint service needs from the runtime host. */
export interface CheckpointHostControl {
  /** Makes the sprite cold: sessions end, sandbox stopped, disk detached. */
  stop(sprite: SpriteRecord, reason: string): Promise<void>
  status(sprite: SpriteRecord): SpriteStatus
  /** Boots the sprite again (after restoring one that was not cold). */
  wake?(sprite: SpriteRecord): Promise<unknown>
}

/** Told after every change of a sprite's checkpoints (e.g. to refresh the browse mounts). */
export type CheckpointsChanged = (sprite: SpriteRecord) => void

export interface CheckpointServiceDeps {
  store: Store
  volumes: VolumeDriver
  host: CheckpointHostControl
  log: Logger
  onChanged?: CheckpointsChanged
}

export interface ListOptions {
  history?: string | null
  includeAuto?: boolean
}

/** Progress of create and restore, for the NDJSON stream. */
export type Progress = (message: string) => void

const SPACE_CONCURRENCY = 8

/** Checkpoints of sprites (sprites-api.md §6, X1, X2), independent of HTTP. */
export type CheckpointService = ReturnType<typeof createCheckpointService>

/**
 * Creates the checkpoint service. Every change to one sprite's checkpoints runs one at a time;
 * create, list, get and delete work on the disk and never wake a sprite.
 */
export function createCheckpointService(deps: CheckpointServiceDeps) {
  const { store, volumes, log } = deps
  const queue = createKeyedQueue()
  const changed = (sprite: SpriteRecord) => deps.onChanged?.(sprite)

  /** Records `v0` (the pristine disk, taken by createDisk) for sprites that have no records yet. */
  async function ensureInit(sprite: SpriteRecord): Promise<void> {
    if ((await store.getCheckpointState(sprite.id)).initialized) return
    const id = await store.allocateCheckpointID(sprite.id, 'v')
    await volumes.checkpoint(sprite.id, id)
    const base = { isAuto: false, comment: '', sourceID: null, history: [] }
    await store.insertCheckpoint({ ...base, spriteID: sprite.id, id, createdAt: sprite.createdAt })
  }

  async function record(sprite: SpriteRecord, raw: string, forChange = false) {
    const id = resolveCheckpointID(raw, forChange)
    const c = await store.getCheckpoint(sprite.id, id)
    if (!c) throw checkpointNotFound(raw)
    return c
  }

  async function toWire(sprite: SpriteRecord, c: CheckpointRecord): Promise<CheckpointWire> {
    const space = await volumes.checkpointSpace(sprite.id, c.id).catch((err: unknown) => {
      log.warn({ err, spriteID: sprite.id, checkpoint: c.id }, 'checkpoint space unavailable')
      return { exclusiveBytes: 0, sharedBytes: 0 }
    })
    return checkpointToWire(c, space)
  }

  /** A new checkpoint descending from the sprite's current one. */
  async function take(sprite: SpriteRecord, kind: 'v' | 'auto', comment: string) {
    const { currentID } = await store.getCheckpointState(sprite.id)
    const source = currentID ? await store.getCheckpoint(sprite.id, currentID) : null
    const id = await store.allocateCheckpointID(sprite.id, kind)
    await volumes.checkpoint(sprite.id, id)
    const history = currentID ? [currentID, ...(source?.history ?? [])] : []
    return store.insertCheckpoint({
      spriteID: sprite.id,
      id,
      isAuto: kind === 'auto',
      comment,
      sourceID: currentID,
      history,
    })
  }

  /** Deletes auto checkpoints beyond the newest {@link AUTO_KEEP}, never the restored one. */
  async function pruneAuto(sprite: SpriteRecord): Promise<void> {
    const { restoredID } = await store.getCheckpointState(sprite.id)
    const autos = (await store.listCheckpoints(sprite.id)).filter((c) => c.isAuto)
    for (const c of autos.slice(AUTO_KEEP)) {
      if (c.id === restoredID) continue
      await volumes.deleteCheckpoint(sprite.id, c.id)
      await store.deleteCheckpoint(sprite.id, c.id)
    }
  }

  /** Replaces the disk, stopping the sprite again if something woke it in between. */
  async function replaceDisk(sprite: SpriteRecord, id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await deps.host.stop(sprite, 'sprite restoring a checkpoint')
      try {
        return await volumes.restore(sprite.id, id)
      } catch (err) {
        if (!(err instanceof Error && (err as SpritesError).code === 'conflict') || attempt >= 3)
          throw err
      }
    }
  }

  return {
    /** C1. Never wakes the sprite; a running one keeps running. */
    create(sprite: SpriteRecord, comment: string, progress: Progress = () => {}) {
      return queue(sprite.id, async () => {
        await ensureInit(sprite)
        progress('Saving filesystem state...')
        const c = await take(sprite, 'v', comment)
        changed(sprite)
        log.info({ spriteID: sprite.id, checkpoint: c.id }, 'checkpoint created')
        return toWire(sprite, c)
      })
    },

    /** C2: newest first; auto checkpoints only with `includeAuto`. */
    async list(sprite: SpriteRecord, opts: ListOptions = {}): Promise<CheckpointWire[]> {
      await queue(sprite.id, () => ensureInit(sprite))
      const history = opts.history ? resolveCheckpointID(opts.history) : null
      const rows = (await store.listCheckpoints(sprite.id)).filter(
        (c) => (opts.includeAuto || !c.isAuto) && (!history || inHistory(c, history)),
      )
      const out: CheckpointWire[] = []
      for (let i = 0; i < rows.length; i += SPACE_CONCURRENCY) {
        const batch = rows.slice(i, i + SPACE_CONCURRENCY)
        out.push(...(await Promise.all(batch.map((c) => toWire(sprite, c)))))
      }
      return out
    },

    /** C3. @throws checkpoint_not_found */
    async get(sprite: SpriteRecord, raw: string): Promise<CheckpointWire> {
      await queue(sprite.id, () => ensureInit(sprite))
      return toWire(sprite, await record(sprite, raw))
    },

    /**
     * C4: stops the sprite (sessions end), keeps the replaced state as a hidden `auto-N`
     * checkpoint (the newest {@link AUTO_KEEP} are kept), clones the checkpoint over the disk,
     * then boots the sprite in the background: a restore is a wake trigger (§11), also for a
     * sprite that was cold.
     * @throws checkpoint_not_found, conflict for `Current`
     */
    restore(sprite: SpriteRecord, raw: string, progress: Progress = () => {}) {
      return queue(sprite.id, async () => {
        await ensureInit(sprite)
        const target = await record(sprite, raw, true)
        progress(`Restoring checkpoint ${target.id}...`)
        await deps.host.stop(sprite, 'sprite restoring a checkpoint')
        const backup = await take(sprite, 'auto', `state before restoring ${target.id}`)
        await replaceDisk(sprite, target.id)
        await store.setCurrentCheckpoint(sprite.id, target.id)
        await pruneAuto(sprite)
        changed(sprite)
        log.info({ spriteID: sprite.id, checkpoint: target.id, backup: backup.id }, 'restored')
        if (deps.host.wake) {
          deps.host.wake(sprite).catch((err: unknown) => log.warn({ err }, 'boot after restore'))
        }
        return { id: target.id, backup: backup.id }
      })
    },

    /** C5. @throws checkpoint_not_found, conflict for `v0`, `Current` and the current checkpoint */
    delete(sprite: SpriteRecord, raw: string): Promise<void> {
      return queue(sprite.id, async () => {
        await ensureInit(sprite)
        const c = await record(sprite, raw, true)
        const { restoredID } = await store.getCheckpointState(sprite.id)
        if (c.id === 'v0') throw conflict('v0 is the pristine base and cannot be deleted')
        if (c.id === restoredID) {
          throw conflict(
            `${c.id} is the checkpoint the sprite is on (restored last); restore another one first`,
          )
        }
        await volumes.deleteCheckpoint(sprite.id, c.id)
        await store.deleteCheckpoint(sprite.id, c.id)
        changed(sprite)
      })
    },

    /**
     * X1: creates the disk of `target` from checkpoint `raw` of `source` (or, without one, from
     * its live state) and records the new sprite's `v0`.
     * @throws checkpoint_not_found
     */
    async fork(source: SpriteRecord, raw: string | undefined, target: SpriteRecord) {
      await queue(source.id, () => ensureInit(source))
      const live = raw === undefined || raw.toLowerCase() === 'current'
      const id = live ? null : (await record(source, raw, false)).id
      await queue(source.id, () => volumes.forkDisk(source.id, id, target.id))
      await queue(target.id, () => ensureInit(target))
    },

    /** The newest checkpoints to show under `/.sprite/checkpoints` (excluding `v0` and auto ones). */
    async recent(sprite: SpriteRecord, count: number): Promise<string[]> {
      const rows = await store.listCheckpoints(sprite.id)
      return rows
        .filter((c) => !c.isAuto && c.id !== 'v0')
        .slice(0, count)
        .map((c) => c.id)
    },
  }
}

function conflict(message: string): SpritesError {
  return new SpritesError('conflict', message)
}
