import { SpritesError } from '@sprites/protocol'

/** Disk ids: letters, digits, `_` and `-`, 1-64 characters, starting with a letter or digit. */
export const DISK_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Throws `invalid_argument` unless `id` is usable as a file name component. */
export function assertDiskID(id: string): void {
  if (typeof id !== 'string' || !DISK_ID_RE.test(id)) {
    throw new SpritesError(
      'invalid_argument',
      `invalid disk id ${JSON.stringify(id)}: ${DISK_ID_RULE}`,
      {
        details: { id },
      },
    )
  }
}

const DISK_ID_RULE = 'use 1-64 letters, digits, "_" or "-", starting with a letter or digit'

/** Where everything of one data directory lives. */
export interface Layout {
  readonly dataDir: string
  readonly pool: string
  readonly poolImage: string
  readonly images: string
  readonly disks: string
}

export function layoutOf(dataDir: string): Layout {
  const pool = `${dataDir}/pool`
  return {
    dataDir,
    pool,
    poolImage: `${dataDir}/pool.img`,
    images: `${pool}/images`,
    disks: `${pool}/disks`,
  }
}

/** Path of a sprite's disk image. */
export function diskPath(layout: Layout, id: string): string {
  return `${layout.disks}/${id}.ext4`
}

/** Path of the golden image of a base image version. */
export function imagePath(layout: Layout, version: string): string {
  return `${layout.images}/${version}.ext4`
}

/** Mount directories of an attached disk: `root` is idmapped, `staging` the plain ext4 mount. */
export function mountPaths(
  layout: Layout,
  id: string,
): { dir: string; root: string; staging: string } {
  const dir = `${layout.dataDir}/mnt/${id}`
  return { dir, root: `${dir}/root`, staging: `${layout.dataDir}/staging/${id}` }
}
