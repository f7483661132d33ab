import { firstPositional, type GlobalFlags, parseCommandArgs, splitArgv } from './args.ts'
import type { Command, CommandArgs } from './command.ts'
import { COMMANDS, isGroup, lookupCommand } from './commands/table.ts'
import { usageError } from './usage-error.ts'

/** A fully parsed invocation. */
export interface Invocation {
  globals: GlobalFlags
  /** Canonical command name, or null for bare `sprite` / `sprite --help`. */
  name: string | null
  command: Command | null
  args: CommandArgs
}

function leadingWords(rest: readonly string[]): string[] {
  const words: string[] = []
  for (const tok of rest) {
    if (tok.startsWith('-') || words.length === 2) break
    words.push(tok)
  }
  return words
}

function parseFor(cmd: Command, rest: string[], afterDashDash: string[] | null): CommandArgs {
  if (!cmd.passthrough) {
    const { values, positionals } = parseCommandArgs(rest, cmd.options ?? {})
    return { values, positionals: [...positionals, ...(afterDashDash ?? [])], argv: [] }
  }
  const cut = firstPositional(rest, cmd.options ?? {})
  const { values } = parseCommandArgs(rest.slice(0, cut), cmd.options ?? {})
  return { values, positionals: [], argv: [...rest.slice(cut), ...(afterDashDash ?? [])] }
}

/**
 * Turns argv into a command and its arguments: global flags anywhere, the command's flags
 * parsed strictly, `--` ends flag parsing.
 * @throws SpritesError (usage) for unknown commands and flags
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const { globals, rest, afterDashDash } = splitArgv(argv)
  const empty: CommandArgs = { values: {}, positionals: [], argv: [] }
  if (rest.length === 0 && !afterDashDash) {
    const name = globals.version ? 'version' : null
    return { globals, name, command: name ? (COMMANDS[name] ?? null) : null, args: empty }
  }
  const words = leadingWords(rest)
  const found = lookupCommand(words)
  if (!found) {
    const what =
      words.length > 1 && isGroup(words[0] ?? '') ? words.slice(0, 2).join(' ') : words[0]
    throw usageError(`unknown command ${JSON.stringify(what ?? rest[0])}: run \`sprite --help\``)
  }
  const command = COMMANDS[found.name] as Command
  if (globals.help) return { globals, name: found.name, command, args: empty }
  const args = parseFor(command, rest.slice(found.used), afterDashDash)
  return { globals, name: found.name, command, args }
}
