import type { CheckpointSpace } from './checkpoint-files.ts'

export type { CheckpointSpace }

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
  /** Detaches if needed and removes the disk, its checkpoints and everything stored for it. */
  deleteDisk(id: string): Promise<void>

  /**
   * Snapshots the disk as checkpoint `ckptID` (`v<N>` or `auto-<N>`) in constant time: a reflink
   * clone of the image, with the filesystem frozen around it when the disk is attached. `createDisk`
   * and `forkDisk` take `v0` themselves. An existing checkpoint is kept as it is.
   * @throws not_found without the disk, invalid_argument for a bad id
   */
  checkpoint(id: string, ckptID: string): Promise<void>
  /**
   * Replaces the disk with a clone of checkpoint `ckptID`. The disk must be detached.
   * @throws checkpoint_not_found, conflict when the disk is attached
   */
  restore(id: string, ckptID: string): Promise<void>
  /** Removes one checkpoint; a missing one is fine. */
  deleteCheckpoint(id: string, ckptID: string): Promise<void>
  /** Ids of the checkpoints stored for the disk, unordered. */
  listCheckpointFiles(id: string): Promise<string[]>
  /** Exclusive and shared bytes of one checkpoint. @throws checkpoint_not_found */
  checkpointSpace(id: string, ckptID: string): Promise<CheckpointSpace>
  /**
   * Creates disk `newID` as a clone of checkpoint `ckptID` of `srcID` (with `null`: of its live
   * state, frozen around the clone when attached), and takes the new disk's `v0`.
   * @throws checkpoint_not_found, not_found without the source disk
   */
  forkDisk(srcID: string, ckptID: string | null, newID: string): Promise<void>
}
