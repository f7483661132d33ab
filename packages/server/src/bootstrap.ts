import { chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { OrgRecord, Store } from '@sprites/store'
import type { ServerConfig } from './config.ts'
import type { Logger } from './logger.ts'

export const DEFAULT_ORG_SLUG = 'personal'
export const ADMIN_TOKEN_FILE = 'admin-token'

export interface BootstrapDeps {
  store: Store
  config: Pick<ServerConfig, 'dataDir' | 'publicURL' | 'cliConfigPath' | 'cliConfigOwner'>
  log: Logger
  /** API URL written to the CLI config. @default config.publicURL */
  apiURL?: string
}

export interface BootstrapResult {
  org: OrgRecord
  /** The admin token issued by this call; null when the store already had an org. */
  token: string | null
  tokenPath: string
}

/**
 * First start (no org in the store): creates org `personal` and an admin token, writes the token
 * to `<dataDir>/admin-token` (0600) and merges it into the CLI config (§13.2) as the current
 * selection. Later starts issue nothing and write nothing.
 */
export async function bootstrap(deps: BootstrapDeps): Promise<BootstrapResult> {
  const { store, config, log } = deps
  const tokenPath = join(config.dataDir, ADMIN_TOKEN_FILE)
  const orgs = await store.listOrgs()
  const existing = orgs.find((o) => o.slug === DEFAULT_ORG_SLUG) ?? orgs[0]
  if (existing) return { org: existing, token: null, tokenPath }
  const org = await store.createOrg(DEFAULT_ORG_SLUG)
  const { token } = await store.createToken(org.id, 'admin (created at first start)')
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  await writePrivate(tokenPath, `${token}\n`, null)
  const apiURL = deps.apiURL ?? config.publicURL
  try {
    await mergeCLIConfig(config.cliConfigPath, apiURL, org.slug, token, config.cliConfigOwner)
  } catch (err) {
    log.warn({ err, path: config.cliConfigPath }, 'could not write the sprite CLI config')
  }
  log.info(
    { org: org.slug, tokenPath, cliConfig: config.cliConfigPath },
    `created org ${org.slug}; admin token in ${tokenPath}. Use it with: SPRITES_API_URL=${apiURL} SPRITE_TOKEN=$(cat ${tokenPath}) sprite list`,
  )
  return { org, token, tokenPath }
}

type Owner = ServerConfig['cliConfigOwner']

interface CLIConfig {
  version?: string
  current_selection?: { url: string; org: string }
  urls?: Record<string, { url?: string; orgs?: Record<string, Record<string, unknown>> }>
  [key: string]: unknown
}

/**
 * Adds (or replaces) our URL and org with the token inline (`use_keyring: false`) and selects
 * them; other URLs, orgs and keys are kept. A config that is not valid JSON is left untouched.
 */
export async function mergeCLIConfig(
  path: string,
  apiURL: string,
  orgSlug: string,
  token: string,
  owner: Owner,
): Promise<void> {
  const current = await readCLIConfig(path)
  const urls = { ...(current.urls ?? {}) }
  const entry = urls[apiURL] ?? {}
  const previous = entry.orgs?.[orgSlug] ?? {}
  urls[apiURL] = {
    ...entry,
    url: apiURL,
    orgs: {
      ...(entry.orgs ?? {}),
      [orgSlug]: { sprites: {}, ...previous, name: orgSlug, use_keyring: false, token },
    },
  }
  const next: CLIConfig = {
    ...current,
    version: '1',
    current_selection: { url: apiURL, org: orgSlug },
    urls,
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  if (owner) await chown(dirname(path), owner.uid, owner.gid)
  await writePrivate(path, `${JSON.stringify(next, null, 2)}\n`, owner)
}

async function readCLIConfig(path: string): Promise<CLIConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${path} does not hold a JSON object`)
  }
  return value as CLIConfig
}

/** Writes via a temporary file and rename, mode 0600, owned by `owner` when given. */
async function writePrivate(path: string, data: string, owner: Owner): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode: 0o600 })
  if (owner) await chown(tmp, owner.uid, owner.gid)
  await rename(tmp, path)
}
