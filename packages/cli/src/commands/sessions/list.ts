import { bool, type Command } from '../../command.ts'

/** `sprite sessions list [--json]` (§3.10). */
export const sessionsList: Command = {
  usage: '[--json]',
  summary: "List a sprite's running sessions",
  options: { json: { type: 'boolean' } },
  async run(ctx, { values }) {
    const sessions = await ctx.client().listSessions(ctx.spriteName())
    if (bool(values, 'json')) {
      ctx.out(JSON.stringify(sessions, null, 2))
      return 0
    }
    if (sessions.length === 0) {
      ctx.err('No running sessions')
      return 0
    }
    ctx.out(['ID', 'TTY', 'ACTIVE', 'CREATED', 'COMMAND'].join('\t'))
    for (const s of sessions) {
      const created = s.created ? s.created.toISOString() : '-'
      ctx.out(
        [s.id, s.tty ? 'yes' : 'no', s.isActive ? 'yes' : 'no', created, s.command].join('\t'),
      )
    }
    return 0
  },
}
