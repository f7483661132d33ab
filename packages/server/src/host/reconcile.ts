import type { NetworkDriver, RuntimeDriver } from '@sprites/runtime'
import type { VolumeDriver } from '@sprites/storage'
import type { Store } from '@sprites/store'
import { type OrphanScanOptions, scanHost, warnOnFailure } from './orphans.ts'
import type { HostLogger } from './runtime-sprite-host.ts'
import { sandboxID } from './runtime-sprite-host.ts'

export interface ReconcileDeps {
  store: Store
  runtime: RuntimeDriver
  volumes: VolumeDriver
  /** When given, every sprite's netns is removed too (sprites come back cold). */
  network?: Pick<NetworkDriver, 'teardown'>
  /** When given, leftovers of sprites the store no longer knows are removed. */
  orphans?: OrphanScanOptions
  destroy: (spriteID: string) => Promise<void>
  log: HostLogger
}

/**
 * Start-up reconciliation: containers (also frozen ones), netns and disk attachments of a
 * previous daemon are removed, so every sprite comes back cold with its disk intact; sprites
 * that were half created or half deleted are finished off; then mounts, netns and cgroups of
 * sprites that no longer exist are removed.
 */
export async function reconcile(d: ReconcileDeps): Promise<void> {
  const sprites = await d.store.listAllSprites()
  for (const sprite of sprites) {
    const ctx = { spriteID: sprite.id }
    await d.runtime
      .cleanup(sandboxID(sprite))
      .catch(warnOnFailure(d.log, 'a leftover container', ctx))
    await d.network?.teardown(sprite.slot).catch(warnOnFailure(d.log, 'a leftover netns', ctx))
    await d.volumes.detach(sprite.id).catch(warnOnFailure(d.log, 'a leftover attachment', ctx))
    if (sprite.opState !== 'ready') {
      d.log.warn(
        { spriteID: sprite.id, opState: sprite.opState },
        'removing a half-finished sprite',
      )
      await d.destroy(sprite.id)
      continue
    }
    if (sprite.status !== 'cold') await d.store.updateSprite(sprite.id, { status: 'cold' })
  }
  if (d.orphans) await removeOrphans(d, d.orphans)
}

async function removeOrphans(d: ReconcileDeps, scan: OrphanScanOptions): Promise<void> {
  const known = await d.store.listAllSprites()
  const ids = new Set(known.map((s) => s.id))
  const slots = new Set(known.map((s) => s.slot))
  const sandboxes = new Set(known.map((s) => sandboxID(s)))
  const found = scanHost(scan)
  for (const id of found.sandboxIDs.filter((x) => !sandboxes.has(x))) {
    d.log.warn({ sandboxID: id }, 'removing an orphaned sandbox')
    await d.runtime.cleanup(id).catch(warnOnFailure(d.log, 'an orphaned sandbox', { id }))
  }
  for (const slot of found.slots.filter((s) => !slots.has(s))) {
    d.log.warn({ slot }, 'removing an orphaned netns')
    await d.network?.teardown(slot).catch(warnOnFailure(d.log, 'an orphaned netns', { slot }))
  }
  for (const id of found.mountIDs.filter((x) => !ids.has(x))) {
    d.log.warn({ spriteID: id }, 'removing an orphaned mount')
    await d.volumes.detach(id).catch(warnOnFailure(d.log, 'an orphaned mount', { id }))
  }
}
