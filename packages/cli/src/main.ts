import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createContext } from './context.ts'
import { commandHelp, mainHelp } from './help.ts'
import { type CLIIO, processIO } from './io.ts'
import { parseCommandLine } from './parse-command-line.ts'
import { isUsageError } from './usage-error.ts'

export type { CLIIO } from './io.ts'

const LOGIN_HINT = 'check SPRITE_TOKEN or run `sprite auth setup --token <token> --url <api-url>`'

/** Prints `error: <message>` (and the stack with --debug); returns 2 for usage errors, else 1. */
function report(io: CLIIO, err: unknown, debug: boolean): number {
  const e = err as { message?: unknown; stack?: unknown; code?: unknown }
  let message = typeof e?.message === 'string' && e.message ? e.message : String(err)
  // The server's 401 text names the problem, not the fix.
  if (e?.code === 'unauthorized' && !message.includes('auth setup')) {
    message = `${message}: ${LOGIN_HINT}`
  }
  io.stderr.write(`error: ${message}\n`)
  if (debug && typeof e?.stack === 'string') io.stderr.write(`${e.stack}\n`)
  return isUsageError(err) ? 2 : 1
}

/**
 * Runs the `sprite` CLI in-process.
 * @returns the exit code (the remote one for `exec`/`console`)
 * @example await main(['list'], { ...processIO(), env: { SPRITE_TOKEN: t, SPRITES_API_URL: url } })
 */
export async function main(argv: readonly string[], io: CLIIO): Promise<number> {
  let debug = argv.includes('--debug')
  try {
    const inv = parseCommandLine(argv)
    debug = inv.globals.debug
    if (!inv.command || !inv.name) {
      io.stdout.write(mainHelp())
      return 0
    }
    if (inv.globals.help) {
      io.stdout.write(commandHelp(inv.name, inv.command))
      return 0
    }
    return await inv.command.run(createContext(io, inv.globals), inv.args)
  } catch (err) {
    return report(io, err, debug)
  }
}

function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) {
  const code = await main(process.argv.slice(2), processIO())
  process.stdout.write('', () => process.exit(code))
}
