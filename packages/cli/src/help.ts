import type { Command } from './command.ts'
import { COMMANDS } from './commands/table.ts'

const GLOBAL_FLAGS = `Global flags:
  -o, --org <org>        organization (default: SPRITE_ORG, .sprite, current selection)
  -s, --sprite <name>    sprite (default: .sprite)
      --debug            print stack traces
  -h, --help             show help
  -v, --version          print the version`

/** Help for all commands. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}${c.summary}`)
  return `Usage: sprite <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_FLAGS}\n`
}

function flagLines(c: Command): string[] {
  return Object.entries(c.options ?? {}).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    '
    const value = o.type === 'string' ? ' <value>' : ''
    return `  ${short}--${name}${value}${o.multiple ? ' (repeatable)' : ''}`
  })
}

/** Help for one command. */
export function commandHelp(name: string, c: Command): string {
  const flags = flagLines(c)
  const flagText = flags.length ? `\nFlags:\n${flags.join('\n')}\n` : ''
  return `Usage: sprite ${name} ${c.usage}\n\n${c.summary}\n${flagText}\n${GLOBAL_FLAGS}\n`
}
