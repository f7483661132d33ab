import { assertSpriteName, errors } from '@sprites/protocol'
import type { SpriteConfig, SpriteLifecycle, URLSettings } from '@sprites/store'
import { type LifecyclePatch, parseLifecycle, parseLifecyclePatch } from './sprite-lifecycle.ts'

/** A validated M1 body. */
export interface CreateInput {
  name: string
  config: SpriteConfig
  environment: Record<string, string>
  urlSettings: URLSettings
  labels: string[]
  runtime: 'default' | 'dev'
  /** X3: per-sprite timings; absent when the body has no `lifecycle`. */
  lifecycle?: SpriteLifecycle
  /** X1: fork from a checkpoint of another sprite (without `checkpoint`: its live state). */
  from?: ForkSource
}

/** Where a forked sprite comes from (X1). */
export interface ForkSource {
  sprite: string
  checkpoint?: string
}

/** A validated M5 body. */
export interface UpdateInput {
  urlSettings?: URLSettings
  labels?: string[]
  /** X3: timings to change (null = back to the server's setting). */
  lifecycle?: LifecyclePatch
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function requireObject(body: unknown): Obj {
  if (!isObj(body)) throw errors.invalid('request body must be a JSON object')
  return body
}

/**
 * Validates an M1 create body (snake_case, with camelCase aliases `ramMB`, `storageGB`,
 * `privateAccess`); unknown fields are ignored; missing config fields take `defaults`.
 * @throws SpritesError invalid_argument naming the field and the rule.
 */
export function parseCreateInput(body: unknown, defaults: SpriteConfig): CreateInput {
  const b = requireObject(body)
  assertSpriteName(b.name)
  const runtime = b.runtime ?? 'default'
  if (runtime !== 'default' && runtime !== 'dev') {
    throw errors.invalid('runtime must be "default" or "dev"')
  }
  const from = parseFrom(b.from)
  const hasLifecycle = b.lifecycle !== undefined && b.lifecycle !== null
  return {
    ...(from ? { from } : {}),
    ...(hasLifecycle ? { lifecycle: parseLifecycle(b.lifecycle) } : {}),
    name: b.name,
    config: parseConfig(b.config, defaults),
    environment: parseEnvironment(b.environment),
    urlSettings:
      b.url_settings === undefined ? { auth: 'sprite' } : parseURLSettings(b.url_settings),
    labels: b.labels === undefined || b.labels === null ? [] : parseLabels(b.labels),
    runtime,
  }
}

/**
 * Validates an M5 update body: at least one of `url_settings`, `labels`, `clear_labels`,
 * `lifecycle` (X3; `"lifecycle": null` resets the timings). `clear_labels: true` wins over `labels`.
 */
export function parseUpdateInput(body: unknown): UpdateInput {
  const b = requireObject(body)
  const has = (k: string) => b[k] !== undefined && b[k] !== null
  const hasLifecycle = b.lifecycle !== undefined
  if (!has('url_settings') && !has('labels') && !has('clear_labels') && !hasLifecycle) {
    throw errors.invalid('nothing to update: send url_settings, labels, clear_labels or lifecycle')
  }
  if (has('clear_labels') && typeof b.clear_labels !== 'boolean') {
    throw errors.invalid('clear_labels must be a boolean')
  }
  const out: UpdateInput = {}
  if (has('url_settings')) out.urlSettings = parseURLSettings(b.url_settings)
  if (has('labels')) out.labels = parseLabels(b.labels)
  if (b.clear_labels === true) out.labels = []
  if (hasLifecycle) out.lifecycle = parseLifecyclePatch(b.lifecycle)
  return out
}

function parseConfig(raw: unknown, defaults: SpriteConfig): SpriteConfig {
  if (raw === undefined || raw === null) return { ...defaults }
  if (!isObj(raw)) throw errors.invalid('config must be an object')
  const int = (key: string, value: unknown, fallback: number, max: number) => {
    if (value === undefined || value === null) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw errors.invalid(`config.${key} must be an integer from 1 to ${max}`)
    }
    return value
  }
  const region = raw.region ?? defaults.region
  if (typeof region !== 'string' || region === '')
    throw errors.invalid('config.region must be a string')
  return {
    ramMB: int('ram_mb', raw.ram_mb ?? raw.ramMB, defaults.ramMB, 1 << 20),
    cpus: int('cpus', raw.cpus, defaults.cpus, 256),
    region,
    storageGB: int('storage_gb', raw.storage_gb ?? raw.storageGB, defaults.storageGB, 65536),
  }
}

function parseEnvironment(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {}
  if (!isObj(raw)) throw errors.invalid('environment must be an object of string values')
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw errors.invalid(`environment.${k} must be a string`)
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) {
      throw errors.invalid(`environment key ${JSON.stringify(k)} is not a valid variable name`)
    }
    env[k] = v
  }
  return env
}

function parseURLSettings(raw: unknown): URLSettings {
  if (!isObj(raw)) throw errors.invalid('url_settings must be an object')
  const auth = raw.auth ?? 'sprite'
  if (auth !== 'sprite' && auth !== 'public') {
    throw errors.invalid('url_settings.auth must be "sprite" or "public"')
  }
  const access = raw.private_access ?? raw.privateAccess
  if (access === undefined || access === null) return { auth }
  if (access !== 'admins' && access !== 'org_users') {
    throw errors.invalid('url_settings.private_access must be "admins" or "org_users"')
  }
  return { auth, privateAccess: access }
}

function parseLabels(raw: unknown): string[] {
  if (!Array.isArray(raw) || !raw.every((l) => typeof l === 'string')) {
    throw errors.invalid('labels must be an array of strings')
  }
  return [...raw]
}

function parseFrom(raw: unknown): ForkSource | undefined {
  if (raw === undefined || raw === null) return undefined
  if (!isObj(raw)) throw errors.invalid('from must be an object {"sprite":…,"checkpoint"?:…}')
  if (typeof raw.sprite !== 'string' || raw.sprite === '') {
    throw errors.invalid('from.sprite must be the name of the sprite to fork')
  }
  const checkpoint = raw.checkpoint
  if (checkpoint === undefined || checkpoint === null || checkpoint === '') {
    return { sprite: raw.sprite }
  }
  if (typeof checkpoint !== 'string')
    throw errors.invalid('from.checkpoint must be a string like "v3"')
  return { sprite: raw.sprite, checkpoint }
}
