import { type Command, str } from '../../command.ts'
import { followProgress } from './progress.ts'

/** `sprite checkpoint create [--comment text]` (C1): progress, then `Checkpoint created: vN`. */
export const checkpointCreate: Command = {
  usage: '[--comment <text>]',
  summary: "Checkpoint the sprite's filesystem",
  options: { comment: { type: 'string' } },
  async run(ctx, { values }) {
    const events = ctx.client().createCheckpoint(ctx.spriteName(), str(values, 'comment'))
    const done = await followProgress(ctx, events)
    ctx.out(`Checkpoint created: ${done.id ?? done.message}`)
    return 0
  },
}
