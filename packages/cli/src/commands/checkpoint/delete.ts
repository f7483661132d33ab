import type { Command } from '../../command.ts'
import { usageError } from '../../usage-error.ts'

/** `sprite checkpoint delete <id>` (C5). */
export const checkpointDelete: Command = {
  usage: '<id>',
  summary: 'Delete a checkpoint and free its space',
  async run(ctx, { positionals }) {
    const id = positionals[0]
    if (!id) throw usageError('pass the checkpoint id, e.g. v3 (see `sprite checkpoint list`)')
    await ctx.client().deleteCheckpoint(ctx.spriteName(), id)
    ctx.out(`Deleted checkpoint ${id}`)
    return 0
  },
}
