import { createWriteStream, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { SpritesError } from '@sprites/sdk'
import type { Command } from '../../command.ts'
import type { Context } from '../../context.ts'
import { localError, localTarget, onRemote, STDIO_PATH, twoPaths } from './file-paths.ts'

const USAGE = 'sprite file pull <remote> <local>'

/** Streams `body` into `path` through a temporary file, so a failure leaves no partial file. */
async function saveTo(body: ReadableStream<Uint8Array>, path: string, mode: number) {
  const tmp = `${path}.sprite-${process.pid}.tmp`
  let size = 0
  async function* count(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      size += chunk.length
      yield chunk
    }
  }
  try {
    const file = createWriteStream(tmp, { mode: mode || 0o644 })
    await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), count, file)
    renameSync(tmp, path)
    return size
  } catch (err) {
    rmSync(tmp, { force: true })
    if ((err as NodeJS.ErrnoException).syscall) throw localError('write', path, err)
    throw new SpritesError('internal', `the download broke off: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

function toStdout(ctx: Context, body: ReadableStream<Uint8Array>): Promise<void> {
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>)
  return pipeline(source, ctx.io.stdout, { end: false })
}

/**
 * `sprite file pull <remote> <local>` (F1): copies a file of the sprite byte for byte to `local`
 * (`-`: stdout; a directory: the file's name in it) with the remote file's mode.
 */
export const filePull: Command = {
  usage: '<remote> <local>',
  summary: 'Copy a file from a sprite to this machine',
  async run(ctx, { positionals }) {
    const [remote, local] = twoPaths(positionals, USAGE)
    const name = ctx.spriteName()
    const fs = ctx.client().filesystem(name)
    const entry = await onRemote(name, remote, () => fs.stat(remote))
    if (entry.isDir) {
      throw new SpritesError('invalid_argument', `${name}:${entry.path}: is a directory`)
    }
    const body = await onRemote(name, remote, () => fs.readStream(remote))
    if (local === STDIO_PATH) {
      await toStdout(ctx, body)
      return 0
    }
    const dest = localTarget(resolve(ctx.io.cwd, local), remote)
    const size = await saveTo(body, dest, entry.mode)
    ctx.out(`Copied ${size} bytes from ${name}:${entry.path} to ${dest}`)
    return 0
  },
}
