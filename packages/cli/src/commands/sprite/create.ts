import { bool, type Command, list, str } from '../../command.ts'
import { usageError } from '../../usage-error.ts'
import { openConsole } from './console.ts'

/** `SPRITE[:CHECKPOINT]` of `--from` → the X1 source. */
function parseFrom(raw: string | undefined): { sprite: string; checkpoint?: string } | undefined {
  if (raw === undefined) return undefined
  const [sprite, checkpoint, extra] = raw.split(':')
  if (!sprite || extra !== undefined || checkpoint === '') {
    throw usageError('--from takes SPRITE or SPRITE:CHECKPOINT, e.g. --from web:v3')
  }
  return checkpoint ? { sprite, checkpoint } : { sprite }
}

/** `sprite create [name] [--from SPRITE[:CHECKPOINT]] [--skip-console] [--label l]...` (M1/X1). */
export const create: Command = {
  usage: '[name] [--from <sprite>[:<checkpoint>]] [--skip-console] [--label <label>]...',
  summary: 'Create a sprite and open a console in it',
  options: {
    'skip-console': { type: 'boolean' },
    label: { type: 'string', multiple: true },
    from: { type: 'string' },
  },
  async run(ctx, { values, positionals }) {
    const name = ctx.spriteName(positionals[0])
    const labels = list(values, 'label')
    const from = parseFrom(str(values, 'from'))
    const opts = { ...(labels.length ? { labels } : {}), ...(from ? { from } : {}) }
    const sprite = await ctx.client().createSprite(name, opts)
    ctx.out(
      from
        ? `Created sprite ${sprite.name} from ${str(values, 'from')}`
        : `Created sprite ${sprite.name}`,
    )
    if (bool(values, 'skip-console')) return 0
    if (!ctx.io.stdin.isTTY) {
      ctx.err('Not a terminal: skipping the console (pass --skip-console to silence this)')
      return 0
    }
    return openConsole(ctx, sprite.name)
  },
}
