import { type ParseArgsConfig, parseArgs } from 'node:util'
import { usageError } from './usage-error.ts'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

/** Flags accepted anywhere on the command line (§13.1). */
export interface GlobalFlags {
  org?: string
  sprite?: string
  help: boolean
  debug: boolean
  version: boolean
}

/** The command line with global flags taken out and everything after `--` set apart. */
export interface SplitArgv {
  globals: GlobalFlags
  rest: string[]
  /** Tokens after the first `--`, or null when there was none. */
  afterDashDash: string[] | null
}

const VALUE_FLAGS: Record<string, 'org' | 'sprite'> = {
  '-o': 'org',
  '--org': 'org',
  '-s': 'sprite',
  '--sprite': 'sprite',
}

function takeGlobal(tok: string, next: string | undefined, g: GlobalFlags): number {
  const eq = tok.indexOf('=')
  const name = eq > 0 && tok.startsWith('--') ? tok.slice(0, eq) : tok
  const key = VALUE_FLAGS[name]
  if (key) {
    const value = eq > 0 && name !== tok ? tok.slice(eq + 1) : next
    if (value === undefined || value === '') throw usageError(`flag ${name} needs a value`)
    g[key] = value
    return name === tok ? 2 : 1
  }
  if (tok === '-h' || tok === '--help') g.help = true
  else if (name === '--debug') g.debug = true
  else if (tok === '-v' || tok === '--version') g.version = true
  else return 0
  return 1
}

/**
 * Removes global flags from anywhere before `--` and splits off what follows `--`.
 * @throws SpritesError (usage) when a global flag lacks its value
 */
export function splitArgv(argv: readonly string[]): SplitArgv {
  const globals: GlobalFlags = { help: false, debug: false, version: false }
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string
    if (tok === '--') return { globals, rest, afterDashDash: argv.slice(i + 1) }
    const used = takeGlobal(tok, argv[i + 1], globals)
    if (used === 0) rest.push(tok)
    i += Math.max(used - 1, 0)
  }
  return { globals, rest, afterDashDash: null }
}

/** Index of the first positional in `args`, skipping option values per `options`. */
export function firstPositional(args: readonly string[], options: OptionSpec): number {
  for (let i = 0; i < args.length; i++) {
    const tok = args[i] as string
    if (!tok.startsWith('-') || tok === '-') return i
    if (tok.includes('=')) continue
    const spec = tok.startsWith('--')
      ? options[tok.slice(2)]
      : Object.values(options).find((o) => o.short === tok.slice(1))
    if (spec?.type === 'string') i++
  }
  return args.length
}

export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>

/**
 * Parses a command's own flags with `util.parseArgs` (strict).
 * @throws SpritesError (usage) for unknown flags or missing values
 */
export function parseCommandArgs(args: string[], options: OptionSpec) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    })
    return { values: values as ParsedValues, positionals }
  } catch (err) {
    throw usageError((err as Error).message)
  }
}

/**
 * Splits `--env` values: `K=V,K2=V2`; a piece without `=` belongs to the previous value, so
 * `A=1,2,B=3` gives A=`1,2` and B=`3`.
 * @throws SpritesError (usage) when the first piece has no `=`
 */
export function parseEnvList(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const value of values) {
    let last: string | undefined
    for (const piece of value.split(',')) {
      const eq = piece.indexOf('=')
      if (eq > 0) {
        last = piece.slice(0, eq)
        env[last] = piece.slice(eq + 1)
      } else if (last !== undefined) env[last] += `,${piece}`
      else throw usageError(`--env expects KEY=VALUE[,KEY2=VALUE2], got ${JSON.stringify(value)}`)
    }
  }
  return env
}
