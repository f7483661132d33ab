import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import type { ExecFn } from './exec.ts'
import { withFileLock } from './file-lock.ts'
import type { Logger } from './logger.ts'
import { isMountPoint } from './mounts.ts'
import type { Layout } from './names.ts'

export interface PoolOptions {
  layout: Layout
  poolSizeBytes: number
  exec: ExecFn
  log: Logger
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Whether `dir`'s filesystem clones files: a `cp --reflink=always` of a small temp file. */
export async function supportsReflink(exec: ExecFn, dir: string): Promise<boolean> {
  const probe = `${dir}/.reflink-probe-${process.pid}`
  try {
    await writeFile(probe, 'reflink probe\n')
    await exec('cp', ['--reflink=always', probe, `${probe}.copy`])
    return true
  } catch {
    return false
  } finally {
    await rm(probe, { force: true })
    await rm(`${probe}.copy`, { force: true })
  }
}

async function mountPoolImage(opts: PoolOptions): Promise<void> {
  const { poolImage, pool } = opts.layout
  await opts.exec('mount', ['-t', 'xfs', '-o', 'loop,noatime', poolImage, pool])
  opts.log.info({ pool, poolImage }, 'mounted pool image')
}

/** Creates a sparse XFS pool file with reflink (written under a temporary name first). */
async function createPoolImage(opts: PoolOptions): Promise<void> {
  const tmp = `${opts.layout.poolImage}.tmp`
  await rm(tmp, { force: true })
  await opts.exec('truncate', ['-s', String(opts.poolSizeBytes), tmp])
  await opts.exec('mkfs.xfs', ['-q', '-m', 'reflink=1', tmp])
  await rename(tmp, opts.layout.poolImage)
  opts.log.info(
    { poolImage: opts.layout.poolImage, sizeBytes: opts.poolSizeBytes },
    'created pool image',
  )
}

/**
 * Makes `<dataDir>/pool` a reflink-capable directory: a pool image is (re)mounted when present,
 * a directory that already clones is used as it is, else a pool image is created and mounted.
 */
export async function preparePool(opts: PoolOptions): Promise<void> {
  const { dataDir, pool, poolImage, images, disks } = opts.layout
  await mkdir(pool, { recursive: true })
  await withFileLock(`${dataDir}/.pool.lock`, async () => {
    if (await isMountPoint(pool)) return
    if (await exists(poolImage)) return mountPoolImage(opts)
    if (await supportsReflink(opts.exec, pool)) {
      opts.log.info({ pool }, 'using reflink-capable pool directory')
      return
    }
    await createPoolImage(opts)
    await mountPoolImage(opts)
  })
  await mkdir(images, { recursive: true })
  await mkdir(disks, { recursive: true })
}
