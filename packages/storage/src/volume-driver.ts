/** Progress of long storage work (base image builds), for logs and CLI output. */
export type ProgressFn = (message: string) => void

export interface BaseImage {
  /** Image version, also written to `/.sprite/version.txt` inside the image. */
  readonly version: string
  /** Path of the golden ext4 image in the pool. */
  readonly path: string
}

export interface AttachOptions {
  /** Host uid/gid that uid/gid 0 on the disk maps to (the sprite's user namespace base). */
  uidBase: number
  uidCount: number
}

export interface AttachedDisk {
  /** Directory holding the sprite's root filesystem, idmapped to its uid range. */
  readonly rootfs: string
  /** Loop device backing it, e.g. `/dev/loop7`. */
  readonly device: string
}

/**
 * Sprite disks: one ext4 image per sprite, cloned by reflink from a golden image in a
 * reflink-capable pool. Implementations: reflinked ext4 images on XFS (real) and a fake.
 * Every method is idempotent, and a failure leaves no loop device or mount behind.
 */
export interface VolumeDriver {
  /** Prepares the pool (mounting a pool file after a reboot). */
  init(): Promise<void>
  /** Builds the golden image when missing (or when `rebuild`), reporting progress. */
  ensureBaseImage(opts?: { rebuild?: boolean; onProgress?: ProgressFn }): Promise<BaseImage>
  /** Clones the golden image into a new sparse disk of `sizeBytes`. */
  createDisk(id: string, sizeBytes: number): Promise<void>
  hasDisk(id: string): Promise<boolean>
  /** Loop-attaches and mounts the disk, idmapped to the sprite's uid range. */
  attach(id: string, opts: AttachOptions): Promise<AttachedDisk>
  /** Unmounts and detaches; no-op when not attached. */
  detach(id: string): Promise<void>
  /** Detaches if needed and removes the disk and everything stored for it. */
  deleteDisk(id: string): Promise<void>
}
