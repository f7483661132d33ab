import type { Command } from '../../command.ts'
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
 * Opens an interactive TTY session on `name`; Ctrl+\ detaches and leaves it running.
 * @throws SpritesError (usage) when stdin is not a terminal
 */
export async function openConsole(ctx: Context, name: string): Promise<number> {
  const { stdin, stdout } = ctx.io
  if (!stdin.isTTY) throw usageError('console needs a terminal: use `sprite exec` for scripts')
  const session = ctx.client().exec(name, CONSOLE_ARGV, {
    tty: true,
    stdin: true,
    cols: stdout.columns ?? 80,
    rows: stdout.rows ?? 24,
    env: ctx.config.terminalEnv,
  })
  return runSession(ctx, session, { raw: true, pipeStdin: true, sprite: name })
}

/** `sprite console [name]`. */
export const consoleCommand: Command = {
  usage: '[name]',
  summary: 'Open an interactive shell in a sprite (detach with Ctrl+\\)',
  async run(ctx, { positionals }) {
    return openConsole(ctx, ctx.spriteName(positionals[0]))
  },
}
