import { bool, type Command } from '../../command.ts'
import { consoleEnv } from '../../console-env.ts'
import type { Context } from '../../context.ts'
import { runSession } from '../../run-session.ts'
import { usageError } from '../../usage-error.ts'

/** Runs `/.sprite/bin/sprite-console` when the image has it, else a login shell. */
const CONSOLE_ARGV = [
  'sh',
  '-c',
  'if [ -x /.sprite/bin/sprite-console ]; then exec /.sprite/bin/sprite-console; else exec bash -l; fi',
]

/**
 * Opens an interactive TTY session on `name`; Ctrl+\ detaches and leaves it running. Ports that
 * open in it are forwarded to local ports unless `forwardPorts` is false.
 * @throws SpritesError (usage) when stdin is not a terminal
 */
export async function openConsole(
  ctx: Context,
  name: string,
  forwardPorts = true,
): Promise<number> {
  const { stdin, stdout } = ctx.io
  if (!stdin.isTTY) throw usageError('console needs a terminal: use `sprite exec` for scripts')
  const session = ctx.client().exec(name, CONSOLE_ARGV, {
    tty: true,
    stdin: true,
    cols: stdout.columns ?? 80,
    rows: stdout.rows ?? 24,
    env: consoleEnv(ctx.config.terminalEnv, ctx.io.env, ctx.io.home),
  })
  return runSession(ctx, session, { raw: true, pipeStdin: true, sprite: name, forwardPorts })
}

/** `sprite console [name]`. */
export const consoleCommand: Command = {
  usage: '[name] [--no-port-forward]',
  summary: 'Open an interactive shell in a sprite (detach with Ctrl+\\)',
  options: { 'no-port-forward': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const forwardPorts = !bool(values, 'no-port-forward')
    return openConsole(ctx, ctx.spriteName(positionals[0]), forwardPorts)
  },
}
