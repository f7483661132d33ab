import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpritesError } from '@sprites/sdk'
import type { Command } from '../../command.ts'
import type { Context } from '../../context.ts'
import { createRedactor } from '../../redact.ts'
import { usageError } from '../../usage-error.ts'

const USAGE = 'sprite api [-s <name>] <path> -- [curl options]'

/**
 * The URL path of `sprite api <path>`: one starting with `/v1` as is; else relative to
 * `/v1/sprites/<sprite>/` when a sprite is selected, or to `/v1/`. A query string is kept.
 * @example resolveAPIPath('exec', 'box') // '/v1/sprites/box/exec'
 */
export function resolveAPIPath(path: string, sprite?: string): string {
  if (/^\/v1(?:[/?]|$)/.test(path)) return path
  const rel = path.replace(/^\/+/, '')
  if (!sprite) return `/v1/${rel}`
  const base = `/v1/sprites/${encodeURIComponent(sprite)}`
  return rel === '' ? base : rel.startsWith('?') ? `${base}${rel}` : `${base}/${rel}`
}

/**
 * curl's arguments: the header from a file (so the token is never on a command line, where `ps`
 * shows it), the user's options, the URL.
 */
export function curlArgs(
  url: string,
  curlOptions: readonly string[],
  headerFile: string,
): string[] {
  return ['--globoff', '--header', `@${headerFile}`, ...curlOptions, url]
}

/**
 * Runs curl with the `Authorization` header in a file only the user can read, removed when curl
 * ends; resolves with curl's exit code.
 */
async function runCurl(ctx: Context, url: string, opts: string[], token: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sprite-api-'))
  try {
    const headerFile = join(dir, 'header')
    writeFileSync(headerFile, `Authorization: Bearer ${token}\n`, { mode: 0o600 })
    return await spawnCurl(ctx, curlArgs(url, opts, headerFile), token)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function spawnCurl(ctx: Context, args: string[], token: string): Promise<number> {
  const child = spawn('curl', args, {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: ctx.io.env as NodeJS.ProcessEnv,
  })
  // `curl -v` shows the request headers: the token is masked on the way through.
  const stderr = child.stderr?.pipe(createRedactor(token))
  stderr?.pipe(ctx.io.stderr, { end: false })
  const drained = new Promise((resolve) => (stderr ? stderr.once('end', resolve) : resolve(null)))
  // Ctrl+C reaches curl too; this process stays to report curl's status.
  const ignore = () => {}
  process.on('SIGINT', ignore)
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'curl is not installed (it must be on PATH)' : err.message
      reject(new SpritesError('internal', `cannot run curl: ${why}`, { cause: err }))
    })
    child.once('close', (code, signal) => {
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))
    })
  })
  return Promise.all([exited, drained])
    .then(([code]) => code)
    .finally(() => process.off('SIGINT', ignore))
}

/**
 * `sprite api [-s name] <path> -- [curl options]`: calls any API route with curl, adding the
 * base URL and the `Authorization` header; exits with curl's code.
 */
export const api: Command = {
  usage: '<path> [-- curl options...]',
  summary:
    'Call an API path with curl (under /v1/sprites/<sprite>/ when one is selected, else /v1/)',
  async run(ctx, { positionals }) {
    const [path, ...curlOptions] = positionals
    if (path === undefined) throw usageError(`no path given: ${USAGE}`)
    if (path.startsWith('-')) throw usageError(`the path comes first: ${USAGE}`)
    const client = ctx.client()
    const url = `${client.baseURL}${resolveAPIPath(path, ctx.config.sprite)}`
    return runCurl(ctx, url, curlOptions, ctx.config.token as string)
  },
}
