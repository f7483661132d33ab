import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from '../../command.ts'
import type { Context } from '../../context.ts'
import { readAll } from '../../read-all.ts'
import { localError, onRemote, remoteTarget, STDIO_PATH, twoPaths } from './file-paths.ts'

const USAGE = 'sprite file push <local> <remote>'

/** The bytes and permission bits of a local file, or stdin's bytes for `-`. */
async function readLocal(ctx: Context, local: string): Promise<{ data: Buffer; mode?: number }> {
  if (local === STDIO_PATH) return { data: await readAll(ctx.io.stdin) }
  const path = resolve(ctx.io.cwd, local)
  try {
    const st = statSync(path)
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    return { data: readFileSync(path), mode: st.mode & 0o7777 }
  } catch (err) {
    throw localError('read', local, err)
  }
}

/**
 * `sprite file push <local> <remote>` (F2): writes a local file (`-`: stdin) into the sprite,
 * byte for byte, with the local file's mode; a remote path ending in `/` is a directory.
 */
export const filePush: Command = {
  usage: '<local> <remote>',
  summary: 'Copy a local file into a sprite (keeps its mode)',
  async run(ctx, { positionals }) {
    const [local, remote] = twoPaths(positionals, USAGE)
    const name = ctx.spriteName()
    const { data, mode } = await readLocal(ctx, local)
    const fs = ctx.client().filesystem(name)
    const dest = remoteTarget(remote, local)
    const opts = mode === undefined ? {} : { mode }
    const r = await onRemote(name, dest, () => fs.writeFile(dest, data, opts))
    ctx.out(`Copied ${r.size} bytes to ${name}:${r.path}`)
    return 0
  },
}
