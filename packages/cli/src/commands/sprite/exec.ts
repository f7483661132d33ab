import { parseEnvList } from '../../args.ts'
import { bool, type Command, type CommandArgs, list, str } from '../../command.ts'
import type { Context } from '../../context.ts'
import { readAll } from '../../read-all.ts'
import { runSession } from '../../run-session.ts'
import { usageError } from '../../usage-error.ts'
import { readUploads, sendUploads } from './exec-files.ts'

async function execHTTP(ctx: Context, name: string, a: CommandArgs, env: Record<string, string>) {
  const { stdin, stdout, stderr } = ctx.io
  const input = stdin.isTTY ? undefined : await readAll(stdin)
  const r = await ctx
    .client()
    .execHTTP(name, a.argv, { env, dir: str(a.values, 'dir'), stdin: input })
  stdout.write(r.stdout)
  stderr.write(r.stderr)
  return r.exitCode
}

/**
 * `sprite exec [--tty] [--dir p] [--env K=V,…] [--file local:remote]… [--http-post]
 * [--no-port-forward] -- cmd args…`; exits with the remote code. `--file` sources are read first,
 * then written into the sprite before the command starts. Ports that open in the session are
 * forwarded to local ports.
 */
export const exec: Command = {
  usage:
    '[--tty] [--dir <path>] [--env K=V[,K2=V2]] [--file <local:remote>]... [--http-post] [--no-port-forward] -- <command> [args...]',
  summary: 'Run a command in a sprite',
  passthrough: true,
  options: {
    tty: { type: 'boolean', short: 't' },
    dir: { type: 'string' },
    env: { type: 'string', multiple: true, short: 'e' },
    file: { type: 'string', multiple: true },
    'http-post': { type: 'boolean' },
    'no-port-forward': { type: 'boolean' },
  },
  async run(ctx, a) {
    const name = ctx.spriteName()
    if (a.argv.length === 0)
      throw usageError('no command given: sprite exec -- <command> [args...]')
    const tty = bool(a.values, 'tty')
    const httpPost = bool(a.values, 'http-post')
    if (httpPost && tty) throw usageError('--http-post cannot be combined with --tty')
    const userEnv = parseEnvList(list(a.values, 'env'))
    const uploads = readUploads(list(a.values, 'file'), ctx.io.cwd)
    if (uploads.length) await sendUploads(ctx.client(), name, uploads, str(a.values, 'dir'))
    if (httpPost) return execHTTP(ctx, name, a, userEnv)
    const { stdin, stdout } = ctx.io
    const env = { ...(tty ? ctx.config.terminalEnv : {}), ...userEnv }
    const pipeStdin = tty || !stdin.isTTY
    const session = ctx.client().exec(name, a.argv, {
      tty,
      stdin: pipeStdin,
      dir: str(a.values, 'dir'),
      env,
      cols: tty ? (stdout.columns ?? 80) : undefined,
      rows: tty ? (stdout.rows ?? 24) : undefined,
    })
    const forwardPorts = !bool(a.values, 'no-port-forward')
    return runSession(ctx, session, { raw: tty, pipeStdin, sprite: name, forwardPorts })
  },
}
