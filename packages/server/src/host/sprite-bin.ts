import { chmod, copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AGENT_BINARY_PATH, ensureAgentBuilt, SPRITE_BIN_SOURCE_DIR } from '@sprites/runtime'

/**
 * Assembles the host directory mounted read-only at `/.sprite/bin` in every sprite: the agent
 * and the scripts of `packages/runtime/sprite-bin`. Rebuilt at every start, so an upgrade of
 * spritesd reaches sprites at their next boot.
 */
export async function prepareSpriteBin(runDir: string): Promise<string> {
  await ensureAgentBuilt()
  await mkdir(runDir, { recursive: true, mode: 0o755 })
  await chmod(runDir, 0o755)
  const dir = join(runDir, 'sprite-bin')
  const tmp = `${dir}.new`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { mode: 0o755 })
  await copyFile(AGENT_BINARY_PATH, join(tmp, 'sprite-agent'))
  for (const name of await readdir(SPRITE_BIN_SOURCE_DIR)) {
    await copyFile(join(SPRITE_BIN_SOURCE_DIR, name), join(tmp, name))
  }
  for (const name of await readdir(tmp)) await chmod(join(tmp, name), 0o755)
  await chmod(tmp, 0o755)
  await rm(dir, { recursive: true, force: true })
  await rename(tmp, dir)
  return dir
}
