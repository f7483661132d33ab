import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fsErrorCode, type SpriteFilesystem, SpritesError } from '@sprites/sdk'
import type { Command } from '../../command.ts'
import type { Context } from '../../context.ts'
import { usageError } from '../../usage-error.ts'
import { onRemote } from './file-paths.ts'

const { signals } = constants

/** The remote file's bytes and mode; a missing file is empty (mode left to the server). */
async function fetchRemote(fs: SpriteFilesystem, remote: string) {
  try {
    const entry = await fs.stat(remote)
    if (entry.isDir) return { data: Buffer.alloc(0), mode: undefined, dir: entry.path }
    return { data: await fs.readFile(remote), mode: entry.mode || undefined }
  } catch (err) {
    if (fsErrorCode(err) !== 'ENOENT') throw err
    return { data: Buffer.alloc(0), mode: undefined }
  }
}

/**
 * Runs the editor command line on `file` through `sh`, so `EDITOR="code -w"` works, on this
 * terminal. @returns its exit code
 */
function runEditor(ctx: Context, file: string): Promise<number> {
  const env = ctx.io.env as NodeJS.ProcessEnv
  const child = spawn('/bin/sh', ['-c', `${ctx.config.editor} "$1"`, 'sh', file], {
    stdio: 'inherit',
    env,
    cwd: ctx.io.cwd,
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? signals[signal] : 0)))
  })
}

/**
 * `sprite file edit <remote>`: pulls the file (a missing one starts empty) to a temporary file,
 * runs `$VISUAL`/`$EDITOR`/`vi` on it and pushes it back, with its mode, only if it changed.
 */
export const fileEdit: Command = {
  usage: '<remote>',
  summary: "Edit a sprite's file with $VISUAL or $EDITOR (else vi)",
  async run(ctx, { positionals }) {
    const remote = positionals[0]
    if (!remote || positionals.length > 1)
      throw usageError('expected one path: sprite file edit <remote>')
    const name = ctx.spriteName()
    const fs = ctx.client().filesystem(name)
    const before = await onRemote(name, remote, () => fetchRemote(fs, remote))
    if (before.dir)
      throw new SpritesError('invalid_argument', `${name}:${before.dir}: is a directory`)
    const dir = mkdtempSync(join(tmpdir(), 'sprite-edit-'))
    try {
      const file = join(dir, posix.basename(remote) || 'file')
      writeFileSync(file, before.data, { mode: 0o600 })
      const code = await runEditor(ctx, file)
      if (code !== 0) {
        throw new SpritesError('internal', `the editor exited with ${code}: ${remote} not saved`)
      }
      const after = readFileSync(file)
      if (after.equals(before.data)) {
        ctx.err(`No changes to ${name}:${remote}`)
        return 0
      }
      const opts = before.mode ? { mode: before.mode } : {}
      const r = await onRemote(name, remote, () => fs.writeFile(remote, after, opts))
      ctx.out(`Saved ${name}:${r.path} (${r.size} bytes)`)
      return 0
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
