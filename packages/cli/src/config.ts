import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SpritesError } from '@sprites/protocol'
import { type ConfigFile, configPath, readConfigFile } from './config-file.ts'

/** The official CLI's default API. */
export const DEFAULT_API_URL = 'https://api.sprites.dev'

/** Environment variables a `--tty` exec forwards (§13.1). */
const TERMINAL_ENV = ['TERM', 'COLORTERM', 'LANG', 'LC_ALL'] as const

/** Settings resolved once per invocation (§13.2). */
export interface ResolvedConfig {
  readonly configPath: string
  readonly file: ConfigFile
  /** `SPRITES_API_URL` > current selection > default. */
  readonly apiURL: string
  /** `-o` > `SPRITE_ORG` > `.sprite` > current selection. */
  readonly org: string | undefined
  /** `SPRITE_TOKEN` > the stored token of (apiURL, org). */
  readonly token: string | undefined
  readonly tokenFromEnv: boolean
  /** `-s` > `.sprite`. */
  readonly sprite: string | undefined
  /** Path of the `.sprite` file in use, if any. */
  readonly spriteFile: string | undefined
  /** TERM, COLORTERM, LANG, LC_ALL when set locally. */
  readonly terminalEnv: Readonly<Record<string, string>>
  /** Command line of the editor of `file edit`: `VISUAL` > `EDITOR` > `vi`. */
  readonly editor: string
}

export interface ConfigInput {
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  home: string
  flags: { org?: string; sprite?: string }
}

interface SpriteFile {
  path: string
  organization?: string
  sprite?: string
}

/** Finds `.sprite` in `cwd` or the nearest parent directory. */
export function findSpriteFile(cwd: string): SpriteFile | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const path = join(dir, '.sprite')
    if (existsSync(path)) return readSpriteFile(path)
    if (dirname(dir) === dir) return undefined
  }
}

function readSpriteFile(path: string): SpriteFile {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
    return { path, organization: str(data.organization), sprite: str(data.sprite) }
  } catch (err) {
    throw new SpritesError(
      'invalid_argument',
      `${path} is not valid JSON: fix it or run \`sprite use --unset\``,
      { cause: err },
    )
  }
}

/** Normalizes an API URL: no trailing slash. */
export function normalizeURL(url: string): string {
  return url.trim().replace(/\/+$/, '')
}

function storedToken(file: ConfigFile, url: string, org: string | undefined): [string?, string?] {
  const orgs = file.urls[url]?.orgs ?? {}
  if (org) return [org, orgs[org]?.token]
  const names = Object.keys(orgs)
  return names.length === 1 ? [names[0], orgs[names[0] as string]?.token] : [undefined, undefined]
}

function terminalEnv(env: ConfigInput['env']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of TERMINAL_ENV) if (env[key]) out[key] = env[key] as string
  return out
}

/** Resolves URL, org, token and sprite with the precedence of §13.2. */
export function loadConfig({ env, cwd, home, flags }: ConfigInput): ResolvedConfig {
  const path = configPath(home)
  const file = readConfigFile(path)
  const local = findSpriteFile(cwd)
  const sel = file.current_selection ?? {}
  const apiURL = normalizeURL(env.SPRITES_API_URL || sel.url || DEFAULT_API_URL)
  const wantedOrg = flags.org || env.SPRITE_ORG || local?.organization || sel.org
  const [org, stored] = storedToken(file, apiURL, wantedOrg)
  return Object.freeze({
    configPath: path,
    file,
    apiURL,
    // A token's first part is its org slug (D41).
    org: org ?? (env.SPRITE_TOKEN ? env.SPRITE_TOKEN.split('/')[0] || undefined : undefined),
    token: env.SPRITE_TOKEN || stored,
    tokenFromEnv: Boolean(env.SPRITE_TOKEN),
    sprite: flags.sprite || local?.sprite,
    spriteFile: local?.path,
    terminalEnv: terminalEnv(env),
    editor: env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi',
  })
}
