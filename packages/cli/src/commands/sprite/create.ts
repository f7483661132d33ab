import { bool, type Command, list } from '../../command.ts'
import { openConsole } from './console.ts'

/** `sprite create [name] [--skip-console] [--label l]...` (M1, then a console). */
export const create: Command = {
  usage: '[name] [--skip-console] [--label <label>]...',
  summary: 'Create a sprite and open a console in it',
  options: {
    'skip-console': { type: 'boolean' },
    label: { type: 'string', multiple: true },
  },
  async run(ctx, { values, positionals }) {
    const name = ctx.spriteName(positionals[0])
    const labels = list(values, 'label')
    const sprite = await ctx.client().createSprite(name, labels.length ? { labels } : {})
    ctx.out(`Created sprite ${sprite.name}`)
    if (bool(values, 'skip-console')) return 0
    if (!ctx.io.stdin.isTTY) {
      ctx.err('Not a terminal: skipping the console (pass --skip-console to silence this)')
      return 0
    }
    return openConsole(ctx, sprite.name)
  },
}
