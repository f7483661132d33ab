// A new sprite disk: a reflink clone of a 10 GiB sparse ext4 image inside an XFS pool.
import { constants } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Probe } from './probe.ts'
import { mustRun, tryRun } from './proc.ts'

const IMAGE_BYTES = 10 * 1024 ** 3

interface Source {
  /** The image to clone. */
  golden: string
  /** An empty directory on the same XFS filesystem for the clones. */
  scratch: string
  describe: string
  cleanup(): Promise<void>
}

/** spritesd's own golden image, cloned into a scratch directory of its pool. */
async function spritesdPoolSource(pool: string): Promise<Source | null> {
  const images = join(pool, 'images')
  const names = await readdir(images).catch(() => [] as string[])
  const name = names.find((n) => n.endsWith('.ext4'))
  if (name === undefined) return null
  const golden = join(images, name)
  const scratch = join(pool, `bench-scratch-${process.pid}`)
  await mkdir(scratch)
  const sizeGiB = ((await stat(golden)).size / 1024 ** 3).toFixed(0)
  return {
    golden,
    scratch,
    describe: `spritesd golden image, ${sizeGiB} GiB`,
    cleanup: () => rm(scratch, { recursive: true, force: true }),
  }
}

/** A private XFS loop pool in a temp dir with an empty 10 GiB sparse ext4 image. */
async function ownPoolSource(parent: string): Promise<Source> {
  const dir = await mkdtemp(join(parent, 'sprites-bench-pool-'))
  const img = join(dir, 'pool.img')
  const mnt = join(dir, 'mnt')
  let mounted = false
  const cleanup = async () => {
    // `mount -o loop` sets autoclear, so the unmount also detaches the loop device.
    if (mounted) await tryRun('umount', [mnt])
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await mkdir(mnt)
    await mustRun('truncate', ['-s', '16G', img])
    await mustRun('mkfs.xfs', ['-q', '-m', 'reflink=1', img])
    await mustRun('mount', ['-o', 'loop,noatime', img, mnt])
    mounted = true
    const golden = join(mnt, 'golden.ext4')
    await mustRun('truncate', ['-s', String(IMAGE_BYTES), golden])
    await mustRun('mkfs.ext4', ['-q', '-F', golden])
    const scratch = join(mnt, 'scratch')
    await mkdir(scratch)
    return { golden, scratch, describe: 'own XFS loop pool, empty 10 GiB ext4', cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}

/**
 * Clones by `cp --reflink=always` (what spritesd runs) and, for comparison, by an in-process
 * FICLONE (`copyFile` with `COPYFILE_FICLONE_FORCE`), which skips the process spawn.
 */
export async function createReflinkProbe(opts: { pool?: string; tempParent: string }) {
  const source =
    (opts.pool === undefined ? null : await spritesdPoolSource(opts.pool)) ??
    (await ownPoolSource(opts.tempParent))
  const probe: Probe = {
    rows: [
      { key: 'reflink_cp', label: 'reflink clone, cp --reflink=always' },
      { key: 'reflink_ficlone', label: 'reflink clone, in-process FICLONE' },
    ],
    async measure(i) {
      const a = join(source.scratch, `clone-${i}-cp.ext4`)
      const b = join(source.scratch, `clone-${i}-ficlone.ext4`)
      const cp = await mustRun('cp', ['--reflink=always', source.golden, a])
      const t0 = performance.now()
      await copyFile(source.golden, b, constants.COPYFILE_FICLONE_FORCE)
      const ficlone = performance.now() - t0
      await rm(a)
      await rm(b)
      return { reflink_cp: cp, reflink_ficlone: ficlone }
    },
    cleanup: () => source.cleanup(),
  }
  return { probe, describe: source.describe }
}
