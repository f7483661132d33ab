import type { Sprite } from '@sprites/sdk'
import { bool, type Command, str } from '../../command.ts'
import { watchList } from './list-watch.ts'

/** `sprite list [--prefix p] [--json] [-w, --watch]`: one name per line, or `name<TAB>status` changes. */
export const listCommand: Command = {
  usage: '[--prefix <prefix>] [--json] [-w, --watch]',
  summary: 'List sprites (--watch: then follow status changes until Ctrl+C)',
  options: {
    prefix: { type: 'string' },
    json: { type: 'boolean' },
    watch: { type: 'boolean', short: 'w' },
  },
  async run(ctx, { values }) {
    const prefix = str(values, 'prefix')
    if (bool(values, 'watch')) return watchList(ctx, prefix, bool(values, 'json'))
    const sprites: Sprite[] = []
    for await (const s of ctx.client().listAllSprites(prefix)) sprites.push(s)
    if (bool(values, 'json')) ctx.out(JSON.stringify(sprites, null, 2))
    else for (const s of sprites) ctx.out(s.name)
    return 0
  },
}
