import { parseEnvList } from '../../args.ts'
import { bool, type Command, type CommandArgs, list, str } from '../../command.ts'
import type { Context } from '../../context.ts'
import type { CLIInput } from '../../io.ts'
import { runSession } from '../../run-session.ts'
import { usageError } from '../../usage-error.ts'

async function readAll(input: CLIInput): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of input as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

async function execHTTP(ctx: Context, name: string, argv: string[], a: CommandArgs) {
  const { stdin, stdout, stderr } = ctx.io
  const input = stdin.isTTY ? undefined : await readAll(stdin)
  const env = parseEnvList(list(a.values, 'env'))
  const r = await ctx
    .client()
    .execHTTP(name, argv, { env, dir: str(a.values, 'dir'), stdin: input })
  stdout.write(r.stdout)
  stderr.write(r.stderr)
  return r.exitCode
}

/**
 * `sprite exec [--tty] [--dir p] [--env K=V,…] [--http-post] [--no-port-forward] -- cmd args…`;
 * exits with the remote code. Ports that open in the session are forwarded to local ports.
 */
export const exec: Command = {
  usage:
    '[--tty] [--dir <path>] [--env K=V[,K2=V2]] [--http-post] [--no-port-forward] -- <command> [args...]',
  summary: 'Run a command in a sprite',
  passthrough: true,
  options: {
    tty: { type: 'boolean', short: 't' },
    dir: { type: 'string' },
    env: { type: 'string', multiple: true, short: 'e' },
    'http-post': { type: 'boolean' },
    'no-port-forward': { type: 'boolean' },
  },
  async run(ctx, a) {
    const name = ctx.spriteName()
    if (a.argv.length === 0)
      throw usageError('no command given: sprite exec -- <command> [args...]')
    const tty = bool(a.values, 'tty')
    if (bool(a.values, 'http-post')) {
      if (tty) throw usageError('--http-post cannot be combined with --tty')
      return execHTTP(ctx, name, a.argv, a)
    }
    const { stdin, stdout } = ctx.io
    const env = { ...(tty ? ctx.config.terminalEnv : {}), ...parseEnvList(list(a.values, 'env')) }
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
