import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assertSpriteName } from '@sprites/protocol'
import { bool, type Command } from '../../command.ts'
import { usageError } from '../../usage-error.ts'

/** `sprite use [name] [--unset]`: writes or removes `.sprite` in the current directory. */
export const use: Command = {
  usage: '[name] [--unset]',
  summary: 'Select a sprite for this directory (writes .sprite)',
  options: { unset: { type: 'boolean' } },
  async run(ctx, { values, positionals }) {
    const path = join(ctx.io.cwd, '.sprite')
    if (bool(values, 'unset')) {
      if (existsSync(path)) rmSync(path)
      ctx.out('Removed .sprite')
      return 0
    }
    const name = positionals[0]
    if (!name) {
      if (!ctx.config.sprite) throw usageError('no sprite selected: run `sprite use <name>`')
      ctx.out(ctx.config.sprite)
      return 0
    }
    assertSpriteName(name)
    const data = ctx.config.org ? { organization: ctx.config.org, sprite: name } : { sprite: name }
    writeFileSync(path, `${JSON.stringify(data)}\n`)
    ctx.out(`Using sprite ${name} in ${ctx.io.cwd}`)
    return 0
  },
}
