import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SpritesError } from '@sprites/protocol'

/** One org's entry in `sprites.json` (§13.2); our tokens are stored inline (`use_keyring: false`). */
export interface OrgEntry {
  name: string
  keyring_key?: string
  use_keyring: boolean
  token?: string
  sprites: Record<string, unknown>
}

/** `~/.sprites/sprites.json`. */
export interface ConfigFile {
  version: string
  current_selection?: { url?: string; org?: string }
  urls: Record<string, { url: string; orgs: Record<string, OrgEntry> }>
}

/** Path of the config file under a home directory. */
export function configPath(home: string): string {
  return join(home, '.sprites', 'sprites.json')
}

/**
 * Reads the config file; a missing file is an empty config.
 * @throws SpritesError invalid_argument when the file is not valid JSON
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { version: '1', urls: {} }
  }
  try {
    const data = JSON.parse(text) as Partial<ConfigFile>
    return {
      version: data.version ?? '1',
      current_selection: data.current_selection,
      urls: data.urls ?? {},
    }
  } catch (err) {
    throw new SpritesError('invalid_argument', `${path} is not valid JSON: fix or delete it`, {
      cause: err,
    })
  }
}

/** Writes the config file atomically, readable by the owner only. */
export function writeConfigFile(path: string, data: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
  renameSync(tmp, path)
}

/** Stores `token` for `org` at `url` and makes that the current selection. */
export function storeToken(data: ConfigFile, url: string, org: string, token: string): ConfigFile {
  const entry = data.urls[url] ?? { url, orgs: {} }
  const prev = entry.orgs[org]
  entry.orgs[org] = { name: org, use_keyring: false, token, sprites: prev?.sprites ?? {} }
  data.urls[url] = entry
  data.current_selection = { url, org }
  return data
}

/** Removes the org's entry; clears the current selection when it pointed there. */
export function removeOrg(data: ConfigFile, url: string, org: string): boolean {
  const entry = data.urls[url]
  if (!entry?.orgs[org]) return false
  delete entry.orgs[org]
  if (Object.keys(entry.orgs).length === 0) delete data.urls[url]
  const cur = data.current_selection
  if (cur?.url === url && cur.org === org) data.current_selection = undefined
  return true
}
