import type { RuntimeDriver } from '@sprites/runtime'
import type { VolumeDriver } from '@sprites/storage'
import type { Store } from '@sprites/store'
import type { HostLogger } from './runtime-sprite-host.ts'
import { sandboxID } from './runtime-sprite-host.ts'

export interface ReconcileDeps {
  store: Store
  runtime: RuntimeDriver
  volumes: VolumeDriver
  destroy: (spriteID: string) => Promise<void>
  log: HostLogger
}

/**
 * Start-up reconciliation: containers and disk attachments of a previous daemon are removed
 * (every sprite comes back cold with its disk intact), and sprites that were half created or
 * half deleted are finished off.
 */
export async function reconcile(d: ReconcileDeps): Promise<void> {
  for (const sprite of await d.store.listAllSprites()) {
    await d.runtime.cleanup(sandboxID(sprite)).catch((err) => {
      d.log.warn({ err, spriteID: sprite.id }, 'could not clean up a leftover container')
    })
    await d.volumes.detach(sprite.id).catch((err) => {
      d.log.warn({ err, spriteID: sprite.id }, 'could not detach a leftover disk')
    })
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
}
