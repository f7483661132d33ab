import type { SpriteStatus } from '@sprites/protocol'
import type { SpriteRecord } from '@sprites/store'

/** A status change reported by the host, for the list watch (M3). */
export interface SpriteStatusEvent {
  spriteID: string
  status: SpriteStatus
  at: Date
}

/**
 * The port from the control plane to the runtime that backs sprites. The server calls it; the
 * real implementation (packages/server/src/host) and {@link createFakeSpriteHost} implement it.
 */
export interface SpriteHost {
  /** Allocates storage and the pristine checkpoint `v0`; starts nothing. */
  provision(sprite: SpriteRecord): Promise<void>
  /**
   * X1: creates `target`'s disk from checkpoint `checkpointID` of `source` (without one: its live
   * state) instead of `provision`. @throws checkpoint_not_found
   */
  fork?(source: SpriteRecord, checkpointID: string | undefined, target: SpriteRecord): Promise<void>
  /** Removes everything the sprite owns (processes, disks, checkpoints, network). Idempotent. */
  destroy(sprite: SpriteRecord): Promise<void>
  /** The live status; never wakes the sprite. */
  status(sprite: SpriteRecord): SpriteStatus
  /** M8: takes the sprite cold, then boots it; resolves when running. */
  restart?(sprite: SpriteRecord): Promise<{ machineID: string }>
  /** M7: uses the newest installed image from the next cold boot. */
  upgrade?(sprite: SpriteRecord, version?: string): Promise<void>
  /** Subscribes to status changes; returns the unsubscribe function. */
  subscribe?(listener: (event: SpriteStatusEvent) => void): () => void
  /** Image version recorded on new sprites (`version` in SpriteInfo). @default "unknown" */
  imageVersion?(): string
}
