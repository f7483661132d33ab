import { bool, type Command, str } from '../../command.ts'
import { formatBytes } from './progress.ts'

/** `sprite checkpoint list [--include-auto] [--history id] [--json]` (C2). */
export const checkpointList: Command = {
  usage: '[--include-auto] [--history <id>] [--json]',
  summary: 'List checkpoints, newest first',
  options: {
    'include-auto': { type: 'boolean' },
    history: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(ctx, { values }) {
    const list = await ctx.client().listCheckpoints(ctx.spriteName(), {
      includeAuto: bool(values, 'include-auto'),
      history: str(values, 'history'),
    })
    if (bool(values, 'json')) {
      ctx.out(JSON.stringify(list, null, 2))
      return 0
    }
    ctx.out(['ID', 'CREATED', 'SOURCE', 'EXCLUSIVE', 'SHARED', 'COMMENT'].join('\t'))
    for (const c of list) {
      const id = c.isAuto ? `${c.id} (auto)` : c.id
      const row = [id, c.createTime.toISOString(), c.sourceID ?? '-']
      ctx.out(
        [...row, formatBytes(c.exclusiveBytes), formatBytes(c.sharedBytes), c.comment ?? ''].join(
          '\t',
        ),
      )
    }
    return 0
  },
}
