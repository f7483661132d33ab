import type { Command } from '../../command.ts'
import { runSession } from '../../run-session.ts'
import { usageError } from '../../usage-error.ts'

/** `sprite sessions attach <id>` (§3.8): raw mode when the session is a TTY; Ctrl+\ detaches. */
export const sessionsAttach: Command = {
  usage: '<id>',
  summary: 'Attach to a running session',
  async run(ctx, { positionals }) {
    const id = positionals[0]
    if (!id || !/^\d+$/.test(id))
      throw usageError('pass the numeric session id (see `sprite sessions list`)')
    const name = ctx.spriteName()
    const session = ctx.client().attach(name, id)
    return runSession(ctx, session, { raw: 'auto', pipeStdin: !ctx.io.stdin.isTTY, sprite: name })
  },
}
