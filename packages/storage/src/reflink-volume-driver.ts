import { readdir, rename, rm, stat } from 'node:fs/promises'
import { SpritesError } from '@sprites/protocol'
import { attachDisk, detachDisk } from './attach.ts'
import { buildGoldenImage, ensureBaseTar } from './base-image.ts'
import type { BaseRecipe } from './base-recipe.ts'
import { DEFAULT_RECIPE, recipeVersion } from './base-recipe.ts'
import {
  checkpointSpace,
  deleteCheckpointFile,
  forkDiskFiles,
  listCheckpointFiles,
  removeCheckpoints,
  restoreCheckpoint,
  takeCheckpoint,
} from './checkpoint.ts'
import { assertCheckpointID, checkpointPath } from './checkpoint-files.ts'
import type { ExecFn } from './exec.ts'
import { defaultExec } from './exec.ts'
import { withFileLock } from './file-lock.ts'
import { assertIDRange } from './idmap.ts'
import { createKeyedQueue } from './keyed-queue.ts'
import type { Logger } from './logger.ts'
import { noopLogger } from './logger.ts'
import type { Layout } from './names.ts'
import { assertDiskID, diskPath, imagePath, layoutOf } from './names.ts'
import { preparePool } from './pool.ts'
import { assertPoolHeadroom, DEFAULT_MIN_FREE_BYTES, mapNoSpace } from './pool-space.ts'
import type { BaseImage, ProgressFn, VolumeDriver } from './volume-driver.ts'

const GIB = 1024 ** 3

/** Options of `createReflinkVolumeDriver`. */
export interface ReflinkVolumeDriverOptions {
  /** Root of the pool, mounts and staging directories, e.g. `/var/lib/sprites`. */
  dataDir: string
  /** Where the base tar is cached. @default '/var/cache/sprites' */
  cacheDir?: string
  /** Size of the sparse pool file when one is needed. @default 200 GiB */
  poolSizeBytes?: number
  /** Size of the golden image, the smallest disk a sprite can have. @default 10 GiB */
  defaultDiskBytes?: number
  /**
   * Free pool space that creating a disk, a fork or a checkpoint must leave; below it they fail
   * with `insufficient_storage` (507). @default 256 MiB
   */
  minFreeBytes?: number
  /** @default a logger that drops everything */
  log?: Logger
  /** Runs external programs. @default `defaultExec` (child_process.spawn, no shell) */
  exec?: ExecFn
  /** What goes into the base image. @default DEFAULT_RECIPE */
  recipe?: BaseRecipe
}

/** The reflink driver: a `VolumeDriver` that also tells where its files live. */
export interface ReflinkVolumeDriver extends VolumeDriver {
  readonly layout: Layout
}

interface Ctx {
  layout: Layout
  cacheDir: string
  poolSizeBytes: number
  defaultDiskBytes: number
  minFreeBytes: number
  log: Logger
  exec: ExecFn
  recipe: BaseRecipe
}

function assertPositiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SpritesError('invalid_argument', `${name} must be a positive integer, got ${value}`)
  }
}

function resolveOptions(opts: ReflinkVolumeDriverOptions): Ctx {
  if (!opts.dataDir?.startsWith('/')) {
    throw new SpritesError('invalid_argument', 'dataDir must be an absolute path')
  }
  const ctx: Ctx = {
    layout: layoutOf(opts.dataDir.replace(/\/+$/, '')),
    cacheDir: opts.cacheDir ?? '/var/cache/sprites',
    poolSizeBytes: opts.poolSizeBytes ?? 200 * GIB,
    defaultDiskBytes: opts.defaultDiskBytes ?? 10 * GIB,
    minFreeBytes: opts.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    log: (opts.log ?? noopLogger).child({ component: 'reflink-volume-driver' }),
    exec: opts.exec ?? defaultExec,
    recipe: opts.recipe ?? DEFAULT_RECIPE,
  }
  assertPositiveInt('poolSizeBytes', ctx.poolSizeBytes)
  assertPositiveInt('defaultDiskBytes', ctx.defaultDiskBytes)
  if (!Number.isSafeInteger(ctx.minFreeBytes) || ctx.minFreeBytes < 0) {
    throw new SpritesError('invalid_argument', 'minFreeBytes must be an integer ≥ 0')
  }
  return ctx
}

async function exists(path: string): Promise<boolean> {
  return (await fileSize(path)) !== undefined
}

async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  )
}

async function buildBaseImage(
  ctx: Ctx,
  rebuild: boolean,
  onProgress?: ProgressFn,
): Promise<BaseImage> {
  const version = recipeVersion(ctx.recipe)
  const path = imagePath(ctx.layout, version)
  if (!rebuild && (await fileSize(path)) !== undefined) return { version, path }
  const startedAt = Date.now()
  return withFileLock(`${path}.lock`, async () => {
    const mtime = (await stat(path).catch(() => undefined))?.mtimeMs
    if (mtime !== undefined && (!rebuild || mtime > startedAt)) return { version, path }
    const progress = (message: string) => {
      ctx.log.debug({ version }, message)
      onProgress?.(message)
    }
    const { cacheDir, recipe, exec } = ctx
    const tarPath = await ensureBaseTar({ recipe, cacheDir, exec, rebuild, onProgress: progress })
    await buildGoldenImage({
      tarPath,
      imagePath: path,
      sizeBytes: ctx.defaultDiskBytes,
      exec,
      onProgress: progress,
    })
    ctx.log.info({ version, path, durationMs: Date.now() - startedAt }, 'built base image')
    progress(`base image ${version} ready`)
    return { version, path }
  })
}

async function cloneDisk(ctx: Ctx, id: string, sizeBytes: number): Promise<void> {
  const golden = imagePath(ctx.layout, recipeVersion(ctx.recipe))
  const goldenBytes = await fileSize(golden)
  if (goldenBytes === undefined) {
    throw new SpritesError('host_not_ready', 'no base image yet: call ensureBaseImage() first')
  }
  if (sizeBytes < goldenBytes) {
    throw new SpritesError(
      'invalid_argument',
      `disk size ${sizeBytes} is below the minimum ${goldenBytes} bytes`,
      {
        details: { sizeBytes, minBytes: goldenBytes },
      },
    )
  }
  const target = diskPath(ctx.layout, id)
  if ((await fileSize(target)) !== undefined) return
  const tmp = `${ctx.layout.disks}/${id}.tmp`
  try {
    await ctx.exec('cp', ['--reflink=always', golden, tmp])
    if (sizeBytes > goldenBytes) {
      await ctx.exec('truncate', ['-s', String(sizeBytes), tmp])
      await ctx.exec('resize2fs', ['-f', tmp])
    }
    await rename(tmp, target)
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Removes the disk image and every other `<pool>/disks/<id>.*` file. */
async function removeDiskFiles(ctx: Ctx, id: string): Promise<void> {
  const names = await readdir(ctx.layout.disks).catch(() => [] as string[])
  for (const name of names) {
    if (name.startsWith(`${id}.`)) await rm(`${ctx.layout.disks}/${name}`, { force: true })
  }
}

async function assertDiskExists(ctx: Ctx, id: string): Promise<void> {
  if ((await fileSize(diskPath(ctx.layout, id))) === undefined) {
    throw new SpritesError('not_found', `no disk ${id}: create it first`, { details: { id } })
  }
}

/**
 * Runs a step that allocates pool space: refused with `insufficient_storage` when the pool is
 * below `minFreeBytes` (`headroom`), and an ENOSPC or EDQUOT while it runs becomes the same error.
 */
function spaceGuard(ctx: Ctx) {
  const { pool } = ctx.layout
  return async <T>(headroom: boolean, fn: () => Promise<T>): Promise<T> => {
    if (headroom) await assertPoolHeadroom(pool, ctx.minFreeBytes)
    return mapNoSpace(pool, ctx.minFreeBytes, fn)
  }
}

async function timed<T>(log: Logger, op: string, id: string, fn: () => Promise<T>): Promise<T> {
  const startedAt = performance.now()
  const result = await fn()
  log.info({ id, op, durationMs: Math.round(performance.now() - startedAt) }, `${op} done`)
  return result
}

/**
 * Creates the production volume driver: ext4 disk images cloned by reflink in an XFS pool,
 * loop-mounted and idmapped to each sprite's uid range. Needs root.
 * @throws invalid_argument for bad options
 * @example
 * const volumes = createReflinkVolumeDriver({ dataDir: '/var/lib/sprites', log })
 * await volumes.init(); await volumes.ensureBaseImage({ onProgress: (m) => log.info({}, m) })
 */
export function createReflinkVolumeDriver(opts: ReflinkVolumeDriverOptions): ReflinkVolumeDriver {
  const ctx = resolveOptions(opts)
  const queue = createKeyedQueue()
  const deps = { layout: ctx.layout, exec: ctx.exec, log: ctx.log }
  let building: Promise<BaseImage> | undefined
  const init = () => preparePool({ ...deps, poolSizeBytes: ctx.poolSizeBytes })
  const methods = checkpointMethods(ctx, queue)
  const guard = spaceGuard(ctx)
  return {
    layout: ctx.layout,
    init,
    async ensureBaseImage({ rebuild = false, onProgress } = {}) {
      await init()
      building ??= buildBaseImage(ctx, rebuild, onProgress).finally(() => {
        building = undefined
      })
      return building
    },
    async createDisk(id, sizeBytes) {
      assertDiskID(id)
      assertPositiveInt('sizeBytes', sizeBytes)
      await queue(id, () =>
        timed(ctx.log, 'createDisk', id, async () =>
          guard(!(await exists(diskPath(ctx.layout, id))), async () => {
            await cloneDisk(ctx, id, sizeBytes)
            await takeCheckpoint(deps, id, 'v0')
          }),
        ),
      )
    },
    async hasDisk(id) {
      assertDiskID(id)
      return (await fileSize(diskPath(ctx.layout, id))) !== undefined
    },
    async attach(id, attachOpts) {
      assertDiskID(id)
      assertIDRange(attachOpts.uidBase, attachOpts.uidCount)
      return queue(id, async () => {
        await assertDiskExists(ctx, id)
        return timed(ctx.log, 'attach', id, () => attachDisk(deps, id, attachOpts))
      })
    },
    async detach(id) {
      assertDiskID(id)
      await queue(id, () => timed(ctx.log, 'detach', id, () => detachDisk(deps, id)))
    },
    async deleteDisk(id) {
      assertDiskID(id)
      await queue(id, async () => {
        await detachDisk(deps, id)
        await removeCheckpoints(deps, id)
        await removeDiskFiles(ctx, id)
        ctx.log.info({ id }, 'deleted disk')
      })
    },
    checkpoint: methods.checkpoint,
    restore: methods.restore,
    deleteCheckpoint: methods.deleteCheckpoint,
    listCheckpointFiles: methods.listCheckpointFiles,
    checkpointSpace: methods.checkpointSpace,
    forkDisk: methods.forkDisk,
  }
}

function assertIDs(id: string, ckptID: string): void {
  assertDiskID(id)
  assertCheckpointID(ckptID)
}

/** The checkpoint half of the driver; each step runs in the disk's queue, after attach/detach. */
type CheckpointMethods = Pick<
  VolumeDriver,
  | 'checkpoint'
  | 'restore'
  | 'deleteCheckpoint'
  | 'listCheckpointFiles'
  | 'checkpointSpace'
  | 'forkDisk'
>

function checkpointMethods(
  ctx: Ctx,
  queue: ReturnType<typeof createKeyedQueue>,
): CheckpointMethods {
  const deps = { layout: ctx.layout, exec: ctx.exec, log: ctx.log }
  const guard = spaceGuard(ctx)
  return {
    async checkpoint(id: string, ckptID: string) {
      assertIDs(id, ckptID)
      await queue(id, () =>
        timed(ctx.log, 'checkpoint', id, async () =>
          guard(!(await exists(checkpointPath(ctx.layout, id, ckptID))), () =>
            takeCheckpoint(deps, id, ckptID),
          ),
        ),
      )
    },
    async restore(id: string, ckptID: string) {
      assertIDs(id, ckptID)
      await queue(id, () =>
        timed(ctx.log, 'restore', id, () =>
          guard(false, () => restoreCheckpoint(deps, id, ckptID)),
        ),
      )
    },
    async deleteCheckpoint(id: string, ckptID: string) {
      assertIDs(id, ckptID)
      await queue(id, () => deleteCheckpointFile(deps, id, ckptID))
    },
    async listCheckpointFiles(id: string) {
      assertDiskID(id)
      return listCheckpointFiles(deps, id)
    },
    async checkpointSpace(id: string, ckptID: string) {
      assertIDs(id, ckptID)
      return checkpointSpace(deps, id, ckptID)
    },
    async forkDisk(srcID: string, ckptID: string | null, newID: string) {
      assertDiskID(srcID)
      assertDiskID(newID)
      if (ckptID !== null) assertCheckpointID(ckptID)
      await queue(newID, () =>
        timed(ctx.log, 'forkDisk', newID, () =>
          guard(true, async () => {
            await queue(srcID, () => forkDiskFiles(deps, srcID, ckptID, newID))
            await takeCheckpoint(deps, newID, 'v0')
          }),
        ),
      )
    },
  }
}
