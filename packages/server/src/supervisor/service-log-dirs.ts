import { chmod, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logger.ts'

export interface ServiceLogDirsOptions {
  /** The server's data directory: each sprite's logs are under `<dataDir>/logs/<sprite id>/`. */
  dataDir: string
  log: Logger
}

/**
 * One host directory per sprite, bound read-only at `/.sprite/logs`, holding
 * `services/<name>.log`. It is outside the sprite's disk, so a restore does not roll the logs
 * back and a checkpoint does not carry them; it goes when the sprite is destroyed. Directories
 * and files belong to host root (a uid no sprite maps) with modes 0755/0644: readable inside,
 * not writable.
 */
export function createServiceLogDirs(o: ServiceLogDirsOptions) {
  const root = join(o.dataDir, 'logs')
  const dirOf = (spriteID: string) => join(root, checkedID(spriteID))

  return {
    /** Host directory of one sprite's service log files (`/.sprite/logs/services` inside). */
    servicesDir: (spriteID: string) => join(dirOf(spriteID), 'services'),
    /**
     * Before a sandbox starts: makes the sprite's directory and returns it (for
     * `SandboxSpec.logsDir`); undefined (logged) when that fails, so the sprite still boots.
     */
    async prepare(sprite: { id: string }): Promise<string | undefined> {
      try {
        const services = join(dirOf(sprite.id), 'services')
        // Host users have no business in sprites' logs: only the sprite's own dir is open (0755),
        // and it is reached through the bind, not through this parent.
        await mkdir(root, { recursive: true, mode: 0o700 })
        await chmod(root, 0o700)
        await mkdir(services, { recursive: true, mode: 0o755 })
        // Modes as such, not as the umask leaves them: the sprite must be able to read.
        for (const dir of [dirOf(sprite.id), services]) await chmod(dir, 0o755)
        return dirOf(sprite.id)
      } catch (err) {
        o.log.warn({ err, spriteID: sprite.id }, 'service log directory unavailable')
        return undefined
      }
    },
    /** The sprite was destroyed: its logs go with it. */
    async remove(spriteID: string): Promise<void> {
      await rm(dirOf(spriteID), { recursive: true, force: true })
    },
    /** At start-up: removes the logs of sprites the store no longer has. */
    async prune(exists: (spriteID: string) => Promise<boolean>): Promise<void> {
      const names = await readdir(root).catch(() => [] as string[])
      for (const name of names) {
        if (!SPRITE_ID.test(name) || (await exists(name))) continue
        o.log.warn({ spriteID: name }, 'removing the service logs of a deleted sprite')
        await rm(join(root, name), { recursive: true, force: true })
      }
    },
  }
}

const SPRITE_ID = /^sprite-[0-9a-f-]{36}$/

/** Sprite ids come from the store; anything else must not become a path. */
function checkedID(spriteID: string): string {
  if (!SPRITE_ID.test(spriteID)) throw new Error(`not a sprite id: ${spriteID}`)
  return spriteID
}
