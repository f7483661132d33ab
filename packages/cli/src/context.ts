import { SpritesClient, SpritesError } from '@sprites/sdk'
import type { GlobalFlags } from './args.ts'
import { loadConfig, type ResolvedConfig } from './config.ts'
import type { CLIIO } from './io.ts'
import { usageError } from './usage-error.ts'

/** What every command receives: IO, resolved config and helpers. */
export interface Context {
  readonly io: CLIIO
  readonly globals: GlobalFlags
  readonly config: ResolvedConfig
  /** Writes a line to stdout. */
  out(line: string): void
  /** Writes a line to stderr. */
  err(line: string): void
  /** @throws SpritesError unauthorized with how to log in, when there is no token */
  client(): SpritesClient
  /** Sprite from the positional, else `-s`, else `.sprite`. @throws usage error when none */
  spriteName(positional?: string): string
}

/** Builds the context; reads the config files once. */
export function createContext(io: CLIIO, globals: GlobalFlags): Context {
  const config = loadConfig({ env: io.env, cwd: io.cwd, home: io.home, flags: globals })
  let client: SpritesClient | undefined
  return {
    io,
    globals,
    config,
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
    client() {
      if (!config.token) throw notLoggedIn(config.apiURL)
      client ??= new SpritesClient({ baseURL: config.apiURL, token: config.token })
      return client
    },
    spriteName(positional) {
      const name = positional || config.sprite
      if (!name) {
        throw usageError(
          'no sprite selected: pass a name, use -s <name>, or run `sprite use <name>`',
        )
      }
      return name
    },
  }
}

function notLoggedIn(url: string): SpritesError {
  return new SpritesError(
    'unauthorized',
    `not logged in to ${url}: run \`sprite auth setup --token <token> --url ${url}\` or set SPRITE_TOKEN`,
  )
}
