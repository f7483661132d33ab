import type { Command } from '../../command.ts'
import { usageError } from '../../usage-error.ts'
import { followProgress } from './progress.ts'

/**
 * `sprite restore <id>` = `sprite checkpoint restore <id>` (C4): progress lines; the state it
 * replaced stays restorable as an `auto-N` checkpoint (`checkpoint list --include-auto`).
 */
export const checkpointRestore: Command = {
  usage: '<id>',
  summary: 'Restore a checkpoint (sessions end; the sprite restarts)',
  async run(ctx, { positionals }) {
    const id = positionals[0]
    if (!id) throw usageError('pass the checkpoint id, e.g. v3 (see `sprite checkpoint list`)')
    const done = await followProgress(ctx, ctx.client().restoreCheckpoint(ctx.spriteName(), id))
    ctx.out(done.message)
    ctx.err('Undo with `sprite restore <auto-N>` (see `sprite checkpoint list --include-auto`)')
    return 0
  },
}
