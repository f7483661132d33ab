import { SpritesError } from '@sprites/protocol'

/** Result of matching a method and path. */
export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' }

interface Route<T> {
  method: string
  segments: string[]
  /** Static segments count first when two patterns match the same path. */
  score: number
  value: T
}

/**
 * Method + path-pattern table. Patterns are `/`-separated: `:name` captures one segment, a final
 * `*` captures the rest (as `params['*']`). Captured segments are percent-decoded; one trailing
 * slash is ignored; a HEAD request falls back to the GET route.
 * @example router.add('GET', '/v1/sprites/:name', handler); router.match('GET', '/v1/sprites/a%2Db')
 */
export class Router<T> {
  readonly #routes: Route<T>[] = []

  add(method: string, pattern: string, value: T): void {
    const segments = splitPath(pattern)
    const score = segments.filter((s) => !s.startsWith(':') && s !== '*').length
    this.#routes.push({ method: method.toUpperCase(), segments, score, value })
  }

  /** @throws SpritesError invalid_argument when a segment has malformed percent-encoding. */
  match(method: string, path: string): RouteMatch<T> {
    const parts = splitPath(path)
    const hits: { route: Route<T>; params: Record<string, string> }[] = []
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts)
      if (params) hits.push({ route, params })
    }
    if (hits.length === 0) return { kind: 'not_found' }
    const wanted = method.toUpperCase()
    const pick = (m: string) =>
      hits.filter((h) => h.route.method === m).sort((a, b) => b.route.score - a.route.score)[0]
    const hit = pick(wanted) ?? (wanted === 'HEAD' ? pick('GET') : undefined)
    if (hit) return { kind: 'found', value: hit.route.value, params: hit.params }
    const allowed = [...new Set(hits.map((h) => h.route.method))].sort()
    return { kind: 'method_not_allowed', allowed }
  }
}

/** Raw (still encoded) segments of a path, without the empty ones from leading/trailing slashes. */
function splitPath(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
  return trimmed.split('/').slice(1)
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = parts.slice(i).map(decodeSegment).join('/')
      return params
    }
    const part = parts[i]
    if (part === undefined) return null
    if (p.startsWith(':')) {
      if (part === '') return null
      params[p.slice(1)] = decodeSegment(part)
    } else if (p !== part) {
      return null
    }
  }
  return parts.length === pattern.length ? params : null
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new SpritesError(
      'invalid_argument',
      `malformed percent-encoding in path segment ${JSON.stringify(segment)}`,
    )
  }
}
