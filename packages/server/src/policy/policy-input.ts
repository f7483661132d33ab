import { errors } from '@sprites/protocol'
import type { PrivilegesPolicy, ResourcesPolicy } from '@sprites/store'

/** Smallest memory limit a resources policy may set, in MiB (the server's `ram_mb` floor). */
export const MIN_MEMORY_LIMIT_MB = 64
/** Largest memory limit a resources policy may set, in MiB (1 TiB, as `config.ram_mb`). */
export const MAX_MEMORY_LIMIT_MB = 1 << 20
/** At most this many entries in `devices`. */
export const MAX_DEVICES = 256

const PROFILES: readonly string[] = ['minimal', 'standard', 'privileged']

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The object's known fields; unknown ones are ignored, as everywhere in the API (§1.1). */
function object(raw: unknown, what: string, known: readonly string[]): Obj {
  if (!isObj(raw)) throw errors.invalid(`${what} must be a JSON object`)
  return Object.fromEntries(Object.entries(raw).filter(([k]) => known.includes(k)))
}

const given = (v: unknown) => v !== undefined && v !== null

/**
 * Validates a privileges policy body (§8.2): `{"profile"?, "devices"?, "noNewPrivileges"?}`,
 * camelCase as the clients send it. Fields that are absent or null are left out, and so is an
 * empty `profile` (the JS SDK's type allows `""` for "no profile").
 * @throws SpritesError invalid_argument naming the field
 */
export function parsePrivilegesPolicy(body: unknown): PrivilegesPolicy {
  const b = object(body, 'the privileges policy', ['profile', 'devices', 'noNewPrivileges'])
  const out: PrivilegesPolicy = {}
  if (given(b.profile) && b.profile !== '') {
    if (typeof b.profile !== 'string' || !PROFILES.includes(b.profile)) {
      throw errors.invalid('profile must be "minimal", "standard" or "privileged"')
    }
    out.profile = b.profile as PrivilegesPolicy['profile']
  }
  if (given(b.devices)) out.devices = parseDevices(b.devices)
  if (given(b.noNewPrivileges)) {
    if (typeof b.noNewPrivileges !== 'boolean') {
      throw errors.invalid('noNewPrivileges must be true or false')
    }
    out.noNewPrivileges = b.noNewPrivileges
  }
  return out
}

function parseDevices(raw: unknown): string[] {
  if (!Array.isArray(raw) || !raw.every((d) => typeof d === 'string' && d !== '')) {
    throw errors.invalid('devices must be an array of non-empty strings')
  }
  if (raw.length > MAX_DEVICES) throw errors.invalid(`devices: at most ${MAX_DEVICES} entries`)
  return [...raw]
}

/**
 * Validates a resources policy body (§8.2): `{"memory":{"limit_mb":int,"autoscale":bool}}`
 * (`limitMB` accepted for `limit_mb`; `autoscale` defaults to false). A body without `memory`
 * sets nothing: the result is null, the same as DELETE.
 * @throws SpritesError invalid_argument naming the field and the range
 */
export function parseResourcesPolicy(body: unknown): ResourcesPolicy | null {
  const b = object(body, 'the resources policy', ['memory'])
  if (!given(b.memory)) return null
  const m = object(b.memory, 'memory', ['limit_mb', 'limitMB', 'autoscale'])
  const limit = m.limit_mb ?? m.limitMB
  const range = `${MIN_MEMORY_LIMIT_MB} to ${MAX_MEMORY_LIMIT_MB}`
  if (
    typeof limit !== 'number' ||
    !Number.isInteger(limit) ||
    limit < MIN_MEMORY_LIMIT_MB ||
    limit > MAX_MEMORY_LIMIT_MB
  ) {
    throw errors.invalid(`memory.limit_mb must be an integer from ${range} (MiB)`)
  }
  if (given(m.autoscale) && typeof m.autoscale !== 'boolean') {
    throw errors.invalid('memory.autoscale must be true or false')
  }
  return { memory: { limit_mb: limit, autoscale: m.autoscale === true } }
}
