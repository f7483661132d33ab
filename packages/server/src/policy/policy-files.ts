import { randomBytes } from 'node:crypto'
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createKeyedQueue } from '@sprites/storage'
import type { SpriteRecord, Store } from '@sprites/store'
import type { Logger } from '../logger.ts'
import { networkPolicyOf } from './sprite-policies.ts'

/** The file name of the network policy inside `/.sprite/policy/`. */
export const NETWORK_POLICY_FILE = 'network.json'

export interface PolicyFilesOptions {
  /** The server's private run directory: each running sprite gets `<runDir>/policy/<sprite id>/`. */
  runDir: string
  /** Where the current policy is read, so a file never shows an older one than the store. */
  store: Pick<Store, 'getSpriteByID'>
  log: Logger
}

/** Read-only policy files of running sprites (sprites-api.md §8.1 "Visibility"). */
export type PolicyFiles = ReturnType<typeof createPolicyFiles>

/**
 * Keeps one host directory per running sprite holding `network.json`, the same JSON as
 * `GET …/policy/network`. The sandbox binds the directory read-only at `/.sprite/policy`; the
 * directory and file belong to host root, a uid no sprite maps, and root inside a sprite has no
 * `CAP_SYS_ADMIN` to unmount it, so nothing inside can change what it shows. The file is replaced
 * by a rename, which the bind shows at once. Work for one sprite runs one step at a time and
 * always writes what the store holds at that moment.
 */
export function createPolicyFiles(o: PolicyFilesOptions) {
  const root = join(o.runDir, 'policy')
  const queue = createKeyedQueue()
  const dirOf = (spriteID: string) => join(root, spriteID)

  async function write(spriteID: string): Promise<void> {
    const sprite = await o.store.getSpriteByID(spriteID)
    if (!sprite) return
    const dir = dirOf(spriteID)
    const tmp = join(dir, `.${NETWORK_POLICY_FILE}.${randomBytes(4).toString('hex')}`)
    await writeFile(tmp, `${JSON.stringify(networkPolicyOf(sprite))}\n`, { mode: 0o644 })
    await rename(tmp, join(dir, NETWORK_POLICY_FILE))
  }

  return {
    /**
     * Before a sandbox starts: makes the sprite's directory with the current policy and returns
     * it (for `SandboxSpec.policyDir`); undefined (logged) when that fails, so the sprite boots
     * with its image's `/.sprite/policy`.
     */
    prepare(sprite: Pick<SpriteRecord, 'id'>): Promise<string | undefined> {
      return queue(sprite.id, async () => {
        const dir = dirOf(sprite.id)
        try {
          await mkdir(dir, { recursive: true, mode: 0o755 })
          await write(sprite.id)
          return dir
        } catch (err) {
          o.log.warn({ err, spriteID: sprite.id }, 'policy files unavailable')
          return undefined
        }
      })
    },
    /** After a policy change: rewrites the file when the sprite has a directory (it runs). */
    changed(sprite: Pick<SpriteRecord, 'id'>): Promise<void> {
      return queue(sprite.id, async () => {
        if (!(await exists(dirOf(sprite.id)))) return
        await write(sprite.id)
      })
    },
    /** Once the sandbox is gone (or the sprite deleted): removes the sprite's directory. */
    release(spriteID: string): Promise<void> {
      return queue(spriteID, () => rm(dirOf(spriteID), { recursive: true, force: true }))
    },
    /** At start-up, before any sprite runs: removes what an earlier server left behind. */
    clear(): Promise<void> {
      return rm(root, { recursive: true, force: true })
    },
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
