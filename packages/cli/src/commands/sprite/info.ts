import type { Sprite } from '@sprites/sdk'
import { bool, type Command } from '../../command.ts'

function rows(s: Sprite): [string, string][] {
  const when = (d: Date | null) => (d ? d.toISOString() : '-')
  return [
    ['Name', s.name],
    ['ID', s.id],
    ['Organization', s.organization],
    ['Status', s.status],
    ['URL', s.url],
    ['URL auth', s.urlSettings.auth],
    ['Labels', s.labels.join(', ') || '-'],
    ['Resources', `${s.config.cpus} CPUs, ${s.config.ramMB} MB RAM, ${s.config.storageGB} GB disk`],
    ['Region', s.config.region || '-'],
    ['Created', when(s.createdAt)],
    ['Last running', when(s.lastRunningAt)],
  ]
}

/** `sprite info [name] [--json]` (M4). */
export const info: Command = {
  usage: '[name] [--json]',
  summary: 'Show a sprite',
  options: { json: { type: 'boolean' } },
  async run(ctx, { values, positionals }) {
    const sprite = await ctx.client().getSprite(ctx.spriteName(positionals[0]))
    if (bool(values, 'json')) {
      ctx.out(JSON.stringify(sprite, null, 2))
      return 0
    }
    for (const [k, v] of rows(sprite)) ctx.out(`${`${k}:`.padEnd(14)}${v}`)
    return 0
  },
}
