import { SpritesError } from '@sprites/sdk'
import { bool, type Command } from '../../command.ts'
import { ask } from '../../prompt.ts'

/** `sprite destroy [name] [--force]` (M6); asks for the name on a terminal. */
export const destroy: Command = {
  usage: '[name] [--force]',
  summary: 'Delete a sprite and all its data',
  options: { force: { type: 'boolean' } },
  async run(ctx, { values, positionals }) {
    const name = ctx.spriteName(positionals[0])
    if (!bool(values, 'force')) {
      const { stdin, stderr } = ctx.io
      if (!stdin.isTTY) {
        throw new SpritesError(
          'invalid_argument',
          `refusing to destroy ${name} without confirmation: pass --force`,
        )
      }
      const answer = await ask(
        stdin,
        stderr,
        `This deletes ${name} and all its data. Type the sprite name to confirm: `,
      )
      if (answer !== name) {
        ctx.err('Aborted: the name did not match')
        return 1
      }
    }
    await ctx.client().deleteSprite(name)
    ctx.out(`Destroyed sprite ${name}`)
    return 0
  },
}
