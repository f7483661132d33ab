import type { Sprite } from '@sprites/sdk'
import { bool, type Command, str } from '../../command.ts'

/** `sprite list [--prefix p] [--json]`: one name per line. */
export const listCommand: Command = {
  usage: '[--prefix <prefix>] [--json]',
  summary: 'List sprites',
  options: { prefix: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, { values }) {
    const sprites: Sprite[] = []
    for await (const s of ctx.client().listAllSprites(str(values, 'prefix'))) sprites.push(s)
    if (bool(values, 'json')) ctx.out(JSON.stringify(sprites, null, 2))
    else for (const s of sprites) ctx.out(s.name)
    return 0
  },
}
