import { existsSync, statSync } from 'node:fs'
import { basename, join, posix } from 'node:path'
import { fsErrorCode, SpritesError } from '@sprites/sdk'
import { usageError } from '../../usage-error.ts'

/** `-` stands for stdin (push) or stdout (pull). */
export const STDIO_PATH = '-'

/**
 * The two path positionals of `file push`/`file pull`.
 * @throws SpritesError (usage) unless there are exactly two
 */
export function twoPaths(positionals: readonly string[], usage: string): [string, string] {
  const [a, b] = positionals
  if (positionals.length !== 2 || !a || !b) throw usageError(`expected two paths: ${usage}`)
  return [a, b]
}

/** The remote path of a push: a trailing `/` means "into that directory", as with `cp`. */
export function remoteTarget(remote: string, local: string): string {
  if (!remote.endsWith('/') || local === STDIO_PATH) return remote
  return posix.join(remote, basename(local))
}

/** The local path of a pull: into `local` when it is a directory or ends with `/`. */
export function localTarget(local: string, remote: string): string {
  const isDir = local.endsWith('/') || (existsSync(local) && statSync(local).isDirectory())
  return isDir ? join(local, posix.basename(remote)) : local
}

/** A local file error as one line: `cannot read ./x: no such file`. */
export function localError(verb: string, path: string, err: unknown): SpritesError {
  const e = err as NodeJS.ErrnoException
  const why =
    e?.code === 'ENOENT'
      ? 'no such file or directory'
      : e?.code === 'EISDIR'
        ? 'is a directory'
        : (e?.code ?? e?.message)
  return new SpritesError('invalid_argument', `cannot ${verb} ${path}: ${why}`, { cause: err })
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
}

/**
 * Runs a filesystem call on `<sprite>:<path>`; its errno errors become one line naming that path
 * (`box:/x: no such file or directory`), other errors pass through.
 */
export async function onRemote<T>(sprite: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const text = ERRNO_TEXT[fsErrorCode(err) ?? '']
    if (!text) throw err
    const code = (err as SpritesError).code
    throw new SpritesError(code, `${sprite}:${path}: ${text}`, { cause: err })
  }
}
