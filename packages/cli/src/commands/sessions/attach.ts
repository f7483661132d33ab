import type { SessionSummary } from '@sprites/sdk'
import type { Command } from '../../command.ts'
import { runSession } from '../../run-session.ts'
import { usageError } from '../../usage-error.ts'

/**
 * The one running session whose command is `target`, else whose program is (`bash` matches
 * `/bin/bash -l`).
 * @throws SpritesError (usage) when no session or several match
 */
export function pickSession(target: string, sessions: readonly SessionSummary[]): number {
  const program = (command: string) => (command.trim().split(/\s+/)[0] ?? '').split('/').pop()
  const exact = sessions.filter((s) => s.command.trim() === target.trim())
  const matches = exact.length > 0 ? exact : sessions.filter((s) => program(s.command) === target)
  if (matches.length === 1) return (matches[0] as SessionSummary).id
  if (matches.length === 0) {
    throw usageError(
      `no running session runs ${JSON.stringify(target)} (see \`sprite sessions list\`)`,
    )
  }
  const ids = matches.map((s) => s.id).join(', ')
  throw usageError(`several sessions run ${JSON.stringify(target)} (${ids}): pass the session id`)
}

/**
 * `sprite sessions attach <id>` and `sprite attach <id-or-command>` (§3.8): raw mode when the
 * session is a TTY; Ctrl+\ detaches.
 */
export const sessionsAttach: Command = {
  usage: '<id-or-command>',
  summary: 'Attach to a running session, by id or by its command',
  async run(ctx, { positionals }) {
    const target = positionals.join(' ')
    if (!target) throw usageError('pass a session id or command (see `sprite sessions list`)')
    const name = ctx.spriteName()
    const id = /^\d+$/.test(target)
      ? target
      : String(pickSession(target, await ctx.client().listSessions(name)))
    const session = ctx.client().attach(name, id)
    return runSession(ctx, session, {
      raw: 'auto',
      pipeStdin: !ctx.io.stdin.isTTY,
      sprite: name,
      attached: true,
    })
  },
}
