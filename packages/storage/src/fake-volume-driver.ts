import { existsSync, mkdtempSync } from 'node:fs'
import { chmod, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpritesError } from '@sprites/protocol'
import { DEFAULT_RECIPE, recipeFiles, recipeVersion } from './base-recipe.ts'
import { assertIDRange } from './idmap.ts'
import { assertDiskID } from './names.ts'
import type { AttachedDisk, BaseImage, VolumeDriver } from './volume-driver.ts'

/** Options of `createFakeVolumeDriver`. */
export interface FakeVolumeDriverOptions {
  /** Directory to keep everything in. @default a new temp directory */
  rootDir?: string
  /** Nominal size of the golden image, the smallest disk allowed. @default 10 GiB */
  defaultDiskBytes?: number
}

/** A `VolumeDriver` on plain directories, plus `close()` to remove them. */
export interface FakeVolumeDriver extends VolumeDriver {
  readonly rootDir: string
  /** Removes everything the fake created. */
  close(): Promise<void>
}

interface Paths {
  images: string
  disks: string
  mnt: string
}

async function writeBaseTree(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const entry of recipeFiles(DEFAULT_RECIPE)) {
    const path = join(dir, entry.path)
    if (entry.content === undefined) await mkdir(path, { recursive: true })
    else await writeFile(path, entry.content)
    await chmod(path, entry.mode | 0o200)
  }
  await mkdir(join(dir, 'home/sprite'), { recursive: true })
}

async function readSize(disk: string): Promise<number> {
  return Number(await readFile(`${disk}.size`, 'utf8'))
}

function notFound(id: string): SpritesError {
  return new SpritesError('not_found', `no disk ${id}: create it first`, { details: { id } })
}

/**
 * Creates a volume driver for tests that needs no root: the golden image is a directory tree,
 * a disk is a copy of it, and an attached disk is a symlink at `<rootDir>/mnt/<id>/root`.
 * Same errors and idempotence as the real driver; no uid mapping.
 */
export function createFakeVolumeDriver(opts: FakeVolumeDriverOptions = {}): FakeVolumeDriver {
  const rootDir = opts.rootDir ?? mkdtempSync(join(tmpdir(), 'sprites-fake-volumes-'))
  const paths: Paths = {
    images: join(rootDir, 'images'),
    disks: join(rootDir, 'disks'),
    mnt: join(rootDir, 'mnt'),
  }
  const goldenBytes = opts.defaultDiskBytes ?? 10 * 1024 ** 3
  const version = recipeVersion(DEFAULT_RECIPE)
  const golden = join(paths.images, version)
  const disk = (id: string) => join(paths.disks, id)
  const attached = new Map<string, AttachedDisk>()
  const driver: FakeVolumeDriver = {
    rootDir,
    async init() {
      for (const dir of Object.values(paths)) await mkdir(dir, { recursive: true })
    },
    async ensureBaseImage({ rebuild = false, onProgress } = {}): Promise<BaseImage> {
      await driver.init()
      if (rebuild || !existsSync(golden)) {
        onProgress?.('building fake base image')
        await rm(golden, { recursive: true, force: true })
        await writeBaseTree(golden)
      }
      return { version, path: golden }
    },
    async createDisk(id, sizeBytes) {
      assertDiskID(id)
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
        throw new SpritesError(
          'invalid_argument',
          `sizeBytes must be a positive integer, got ${sizeBytes}`,
        )
      }
      if (!existsSync(golden)) {
        throw new SpritesError('host_not_ready', 'no base image yet: call ensureBaseImage() first')
      }
      if (sizeBytes < goldenBytes) {
        throw new SpritesError(
          'invalid_argument',
          `disk size ${sizeBytes} is below the minimum ${goldenBytes} bytes`,
        )
      }
      if (existsSync(disk(id))) return
      await cp(golden, disk(id), { recursive: true, preserveTimestamps: true })
      await writeFile(`${disk(id)}.size`, String(sizeBytes))
    },
    async hasDisk(id) {
      assertDiskID(id)
      return existsSync(disk(id))
    },
    async attach(id, { uidBase, uidCount }) {
      assertDiskID(id)
      assertIDRange(uidBase, uidCount)
      if (!existsSync(disk(id))) throw notFound(id)
      const current = attached.get(id)
      if (current) return current
      const rootfs = join(paths.mnt, id, 'root')
      await mkdir(join(paths.mnt, id), { recursive: true })
      await symlink(disk(id), rootfs)
      const result = { rootfs, device: `fake:${id}:${await readSize(disk(id))}` }
      attached.set(id, result)
      return result
    },
    async detach(id) {
      assertDiskID(id)
      attached.delete(id)
      await rm(join(paths.mnt, id), { recursive: true, force: true })
    },
    async deleteDisk(id) {
      await driver.detach(id)
      await rm(disk(id), { recursive: true, force: true })
      await rm(`${disk(id)}.size`, { force: true })
    },
    async close() {
      attached.clear()
      await rm(rootDir, { recursive: true, force: true })
    },
  }
  return driver
}
