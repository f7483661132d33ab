import { existsSync, mkdtempSync } from 'node:fs'
import { chmod, cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpritesError } from '@sprites/protocol'
import { DEFAULT_RECIPE, recipeFiles, recipeVersion } from './base-recipe.ts'
import { assertCheckpointID } from './checkpoint-files.ts'
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
  checkpoints: string
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
    checkpoints: join(rootDir, 'checkpoints'),
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
      await driver.checkpoint(id, 'v0')
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
      await rm(join(paths.checkpoints, id), { recursive: true, force: true })
    },
    ...fakeCheckpoints(paths, disk, (id) => attached.has(id)),
    async close() {
      attached.clear()
      await rm(rootDir, { recursive: true, force: true })
    },
  }
  return driver
}

function fakeCheckpointErr(id: string, ckptID: string): SpritesError {
  return new SpritesError('checkpoint_not_found', `checkpoint not found: ${ckptID}`, {
    details: { id, checkpoint: ckptID },
  })
}

/** Checkpoints of the fake: copies of the disk directory under `<rootDir>/checkpoints/<id>/`. */
function fakeCheckpoints(
  paths: Paths,
  disk: (id: string) => string,
  isAttached: (id: string) => boolean,
) {
  const ckpt = (id: string, ckptID: string) => join(paths.checkpoints, id, ckptID)
  const copy = async (src: string, dst: string) => {
    await rm(dst, { recursive: true, force: true })
    await cp(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
  }
  const check = (id: string, ckptID: string) => {
    assertDiskID(id)
    assertCheckpointID(ckptID)
  }
  return {
    async checkpoint(id: string, ckptID: string) {
      check(id, ckptID)
      if (!existsSync(disk(id))) throw notFound(id)
      if (!existsSync(ckpt(id, ckptID))) await copy(disk(id), ckpt(id, ckptID))
    },
    async restore(id: string, ckptID: string) {
      check(id, ckptID)
      if (!existsSync(ckpt(id, ckptID))) throw fakeCheckpointErr(id, ckptID)
      if (isAttached(id)) throw new SpritesError('conflict', `disk ${id} is attached`)
      await copy(ckpt(id, ckptID), disk(id))
    },
    async deleteCheckpoint(id: string, ckptID: string) {
      check(id, ckptID)
      await rm(ckpt(id, ckptID), { recursive: true, force: true })
    },
    async listCheckpointFiles(id: string) {
      assertDiskID(id)
      return readdir(join(paths.checkpoints, id)).catch(() => [] as string[])
    },
    async checkpointSpace(id: string, ckptID: string) {
      check(id, ckptID)
      if (!existsSync(ckpt(id, ckptID))) throw fakeCheckpointErr(id, ckptID)
      return { exclusiveBytes: 0, sharedBytes: 0 }
    },
    async forkDisk(srcID: string, ckptID: string | null, newID: string) {
      assertDiskID(srcID)
      assertDiskID(newID)
      if (ckptID !== null) assertCheckpointID(ckptID)
      if (existsSync(disk(newID))) return
      const src = ckptID === null ? disk(srcID) : ckpt(srcID, ckptID)
      if (!existsSync(src))
        throw ckptID === null ? notFound(srcID) : fakeCheckpointErr(srcID, ckptID)
      await copy(src, disk(newID))
      await writeFile(`${disk(newID)}.size`, await readFile(`${disk(srcID)}.size`, 'utf8'))
      await copy(disk(newID), ckpt(newID, 'v0'))
    },
  }
}
