import { errors, isValidServiceName, SERVICE_NAME_RULE, SpritesError } from '@sprites/protocol'

/** A service as defined through `PUT /services/{name}` (sprites-api.md §7). */
export interface ServiceDefinition {
  name: string
  /** Program to run (not a shell line); without `/` it is looked up in PATH. */
  cmd: string
  args: string[]
  env: Record<string, string>
  /** Working directory; the sprite user's home when absent. */
  dir: string | undefined
  needs: string[]
  httpPort: number | null
}

/** What is kept on the sprite's disk: the definition plus the sticky stop flag (D43). */
export interface StoredService extends ServiceDefinition {
  stopped: boolean
}

const MAX_ARGS = 4096

/**
 * Validates a PUT body (snake_case, also camel `httpPort`, D31). Unknown fields are ignored.
 * @throws SpritesError invalid_argument
 */
export function parseDefinition(name: string, body: unknown): ServiceDefinition {
  assertServiceName(name)
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.invalid('the service definition must be a JSON object')
  }
  const b = body as Record<string, unknown>
  if (typeof b.cmd !== 'string' || b.cmd === '' || b.cmd.includes('\0')) {
    throw errors.invalid('cmd is required: the program to run, e.g. "python3"')
  }
  const port = b.http_port ?? b.httpPort ?? null
  if (
    port !== null &&
    (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
  ) {
    throw errors.invalid('http_port must be an integer from 1 to 65535')
  }
  const dir = b.dir ?? undefined
  if (dir !== undefined && (typeof dir !== 'string' || dir.includes('\0'))) {
    throw errors.invalid('dir must be a string')
  }
  return {
    name,
    cmd: b.cmd,
    args: stringList(b.args, 'args', MAX_ARGS),
    env: stringMap(b.env),
    dir: dir === '' ? undefined : dir,
    needs: stringList(b.needs, 'needs', 256),
    httpPort: port as number | null,
  }
}

/** @throws SpritesError invalid_argument when `name` breaks the service-name rule. */
export function assertServiceName(name: unknown): asserts name is string {
  if (!isValidServiceName(name)) {
    throw errors.invalid(
      `invalid service name ${JSON.stringify(String(name))}: ${SERVICE_NAME_RULE}`,
    )
  }
}

function stringList(v: unknown, what: string, max: number): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.includes('\0'))) {
    throw errors.invalid(`${what} must be an array of strings`)
  }
  if (v.length > max) throw errors.invalid(`${what} has more than ${max} entries`)
  return [...(v as string[])]
}

function stringMap(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.invalid('env must be an object')
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string' || k === '' || k.includes('=') || `${k}${val}`.includes('\0')) {
      throw errors.invalid(`env ${JSON.stringify(k)} must map a name without "=" to a string`)
    }
    out[k] = val
  }
  return out
}

/**
 * Most services one sprite may define. Their logs live on the host (at most two files of 10 MiB
 * each, and deleted services' logs are kept only up to this count), so this also bounds the
 * host disk a sprite's logs can take.
 */
export const MAX_SERVICES = 50

/**
 * Checks a definition against the others of the sprite (D24): every `needs` entry exists, no
 * cycle, at most one `http_port`, at most {@link MAX_SERVICES} services.
 * @throws SpritesError conflict (409)
 */
export function checkConflicts(
  def: ServiceDefinition,
  others: ReadonlyMap<string, ServiceDefinition>,
): void {
  const all = new Map(others)
  all.set(def.name, def)
  if (all.size > MAX_SERVICES) {
    throw conflict(`a sprite has at most ${MAX_SERVICES} services; delete one first`)
  }
  for (const need of def.needs) {
    if (!all.has(need)) throw conflict(`service ${def.name} needs unknown service ${need}`)
  }
  if (def.httpPort !== null) {
    for (const o of others.values()) {
      if (o.name !== def.name && o.httpPort !== null) {
        throw conflict('another service already has an HTTP port configured')
      }
    }
  }
  const cycle = findCycle(all)
  if (cycle) throw conflict(`services have a dependency cycle: ${cycle.join(' -> ')}`)
}

function conflict(message: string): SpritesError {
  return new SpritesError('conflict', message)
}

/** A `needs` cycle as a path (`a -> b -> a`), or null. Unknown names are ignored. */
export function findCycle(
  defs: ReadonlyMap<string, Pick<ServiceDefinition, 'needs'>>,
): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>()
  const path: string[] = []
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name]
    state.set(name, 'visiting')
    path.push(name)
    for (const need of defs.get(name)?.needs ?? []) {
      if (!defs.has(need)) continue
      const found = visit(need)
      if (found) return found
    }
    path.pop()
    state.set(name, 'done')
    return null
  }
  for (const name of [...defs.keys()].sort()) {
    const found = visit(name)
    if (found) return found
  }
  return null
}

/**
 * Names in dependency order: each after everything it needs (transitively). Names outside
 * `defs` and cycles are skipped over, so a damaged set still yields every service once.
 */
export function startOrder(
  defs: ReadonlyMap<string, Pick<ServiceDefinition, 'needs'>>,
  names: Iterable<string> = defs.keys(),
): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name) || !defs.has(name)) return
    seen.add(name)
    for (const need of defs.get(name)?.needs ?? []) visit(need)
    out.push(name)
  }
  for (const name of [...names].sort()) visit(name)
  return out
}

/** The JSON kept in `/.sprite/services/<name>.json`. */
export function encodeStored(s: StoredService): string {
  return JSON.stringify({
    name: s.name,
    cmd: s.cmd,
    args: s.args,
    env: s.env,
    dir: s.dir ?? null,
    needs: s.needs,
    http_port: s.httpPort,
    stopped: s.stopped,
  })
}

/** Parses a stored definition; null when the file is damaged. */
export function decodeStored(text: string): StoredService | null {
  try {
    const raw = JSON.parse(text) as Record<string, unknown>
    const def = parseDefinition(String(raw.name), raw)
    return { ...def, stopped: raw.stopped === true }
  } catch {
    return null
  }
}
