import { bool, type Command } from '../../command.ts'
import { usageError } from '../../usage-error.ts'
import { formatBytes } from './progress.ts'

/** `sprite checkpoint info <id> [--json]` (C3). */
export const checkpointInfo: Command = {
  usage: '<id> [--json]',
  summary: 'Show one checkpoint',
  options: { json: { type: 'boolean' } },
  async run(ctx, { values, positionals }) {
    const id = positionals[0]
    if (!id) throw usageError('pass the checkpoint id, e.g. v3 (see `sprite checkpoint list`)')
    const c = await ctx.client().getCheckpoint(ctx.spriteName(), id)
    if (bool(values, 'json')) {
      ctx.out(JSON.stringify(c, null, 2))
      return 0
    }
    const rows: [string, string][] = [
      ['ID', c.id],
      ['Created', c.createTime.toISOString()],
      ['Comment', c.comment ?? '-'],
      ['Source', c.sourceID ?? '-'],
      ['History', c.history.join(' ← ') || '-'],
      ['Automatic', c.isAuto ? 'yes' : 'no'],
      ['Exclusive', formatBytes(c.exclusiveBytes)],
      ['Shared', formatBytes(c.sharedBytes)],
    ]
    for (const [k, v] of rows) ctx.out(`${`${k}:`.padEnd(12)}${v}`)
    return 0
  },
}
