import { type Command, str } from '../../command.ts'
import { usageError } from '../../usage-error.ts'

/** `sprite sessions kill <id> [--signal S] [--timeout D]` (§3.11): prints the kill stream. */
export const sessionsKill: Command = {
  usage: '<id> [--signal <signal>] [--timeout <duration>]',
  summary: 'Signal a session, escalating to SIGKILL after the timeout',
  options: { signal: { type: 'string' }, timeout: { type: 'string' } },
  async run(ctx, { values, positionals }) {
    const id = positionals[0]
    if (!id || !/^\d+$/.test(id))
      throw usageError('pass the numeric session id (see `sprite sessions list`)')
    const opts = { signal: str(values, 'signal'), timeout: str(values, 'timeout') }
    for await (const ev of ctx.client().killSession(ctx.spriteName(), id, opts)) {
      if (ev.type === 'complete') {
        if (ev.exitCode !== undefined) ctx.out(`Session ${id} ended with exit code ${ev.exitCode}`)
      } else ctx.out(ev.message)
    }
    return 0
  },
}
