import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { type SpritesClient, SpritesError } from '@sprites/sdk'
import { usageError } from '../../usage-error.ts'

/** One `--file <local>:<remote>` of `exec`. */
export interface FileSpec {
  local: string
  remote: string
}

/** A local file read and ready to be written into the sprite. */
export interface FileUpload extends FileSpec {
  data: Buffer
  mode: number
}

/**
 * Splits `<local>:<remote>` at its last colon.
 * @throws SpritesError (usage) when a side is empty or there is no colon
 */
export function parseFileSpec(spec: string): FileSpec {
  const i = spec.lastIndexOf(':')
  const local = i > 0 ? spec.slice(0, i) : ''
  const remote = i > 0 ? spec.slice(i + 1) : ''
  if (!local || !remote) {
    throw usageError(`--file expects <local>:<remote>, got ${JSON.stringify(spec)}`)
  }
  return { local, remote }
}

/**
 * Reads every `--file` source (relative to `cwd`) before anything runs.
 * @throws SpritesError invalid_argument naming the first missing or unreadable local file
 */
export function readUploads(specs: readonly string[], cwd: string): FileUpload[] {
  return specs.map(parseFileSpec).map(({ local, remote }) => {
    const path = resolve(cwd, local)
    try {
      const st = statSync(path)
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' })
      return { local, remote, data: readFileSync(path), mode: st.mode & 0o7777 }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const why = e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)
      throw new SpritesError('invalid_argument', `--file ${local}: ${why}`, { cause: err })
    }
  })
}

/** Writes each upload into the sprite (F2), keeping its mode; `dir` anchors relative paths. */
export async function sendUploads(
  client: SpritesClient,
  name: string,
  uploads: readonly FileUpload[],
  dir?: string,
): Promise<void> {
  const fs = client.filesystem(name, dir)
  for (const u of uploads) await fs.writeFile(u.remote, u.data, { mode: u.mode })
}
