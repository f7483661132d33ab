import type { OptionSpec, ParsedValues } from './args.ts'
import type { Context } from './context.ts'

/** Parsed arguments handed to a command. */
export interface CommandArgs {
  values: ParsedValues
  positionals: string[]
  /** Remote argv for commands with `passthrough` (after the first positional or `--`). */
  argv: string[]
}

/** One `sprite <noun> <verb>` command; each lives in `commands/<noun>/<verb>.ts`. */
export interface Command {
  /** Arguments part of the usage line, e.g. `[name] [--force]`. */
  usage: string
  summary: string
  options?: OptionSpec
  /** Everything from the first positional on is the remote command line. */
  passthrough?: boolean
  /** Returns the process exit code. */
  run(ctx: Context, args: CommandArgs): Promise<number>
}

/** A string flag value, if given. */
export function str(values: ParsedValues, key: string): string | undefined {
  const v = values[key]
  return typeof v === 'string' ? v : undefined
}

/** A boolean flag value. */
export function bool(values: ParsedValues, key: string): boolean {
  return values[key] === true
}

/** A repeatable string flag's values. */
export function list(values: ParsedValues, key: string): string[] {
  const v = values[key]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}
