import type { Command } from '../../command.ts'

/** `sprite url [name]`: prints the sprite's URL (M4). */
export const url: Command = {
  usage: '[name]',
  summary: "Print a sprite's URL",
  async run(ctx, { positionals }) {
    const sprite = await ctx.client().getSprite(ctx.spriteName(positionals[0]))
    ctx.out(sprite.url)
    if (ctx.io.stdout.isTTY) ctx.err(`(auth: ${sprite.urlSettings.auth})`)
    return 0
  },
}
