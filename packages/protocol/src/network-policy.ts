import { SpritesError } from './errors.ts'

/**
 * The network egress policy of a sprite (§8.1): a list of rules, stored and returned exactly as
 * given. An empty list means no enforcement; a non-empty one is an allowlist.
 */
export type NetworkRule = DomainRule | IncludeRule

export interface DomainRule {
  /** `host.name`, `*.host.name` (any depth of subdomain, not the apex) or `*`. */
  domain: string
  action: 'allow' | 'deny'
}

export interface IncludeRule {
  include: 'defaults'
}

export interface NetworkPolicy {
  rules: NetworkRule[]
}

/** The decision for one DNS name. */
export type EgressDecision = 'allow' | 'deny'

/** At most this many rules in one policy (a bound on what the resolver matches per query). */
export const MAX_NETWORK_RULES = 1000

/**
 * What `{"include":"defaults"}` stands for: package and code hosts, AI APIs. The server adds its
 * own API host when it expands the rules ({@link expandNetworkRules}).
 */
export const DEFAULT_ALLOWED_DOMAINS: readonly string[] = [
  // GitHub
  'github.com',
  '*.github.com',
  'githubusercontent.com',
  '*.githubusercontent.com',
  // npm
  'npmjs.org',
  '*.npmjs.org',
  'npmjs.com',
  '*.npmjs.com',
  'registry.yarnpkg.com',
  // PyPI
  'pypi.org',
  '*.pypi.org',
  'files.pythonhosted.org',
  // RubyGems
  'rubygems.org',
  '*.rubygems.org',
  // crates.io
  'crates.io',
  '*.crates.io',
  // Go module proxy and checksum database
  'proxy.golang.org',
  'sum.golang.org',
  'golang.org',
  '*.golang.org',
  // Docker Hub
  'docker.io',
  '*.docker.io',
  'docker.com',
  '*.docker.com',
  // Debian and Ubuntu archives
  'deb.debian.org',
  'security.debian.org',
  '*.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
  '*.ubuntu.com',
  // AI APIs
  'api.anthropic.com',
  '*.anthropic.com',
  'api.openai.com',
  '*.openai.com',
  'generativelanguage.googleapis.com',
]

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/

function invalid(message: string): SpritesError {
  return new SpritesError('invalid_argument', `invalid policy: ${message}`)
}

/** True for `host.name`, `*.host.name` and `*` (case-insensitive, no trailing dot). */
export function isDomainPattern(pattern: string): boolean {
  if (pattern === '*') return true
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern
  if (name.length === 0 || name.length > 253) return false
  return name
    .toLowerCase()
    .split('.')
    .every((label) => LABEL.test(label))
}

/**
 * Validates a request body into a policy: `{"rules":[…]}` where each rule is exactly one of
 * `{"domain","action"}` or `{"include":"defaults"}`; unknown fields are dropped (§1.1). Throws
 * `invalid_argument` naming the rule.
 */
export function parseNetworkPolicy(body: unknown): NetworkPolicy {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('the body must be an object {"rules":[…]}')
  }
  const rules = (body as Record<string, unknown>).rules
  if (!Array.isArray(rules)) throw invalid('"rules" must be an array')
  if (rules.length > MAX_NETWORK_RULES) {
    throw invalid(`at most ${MAX_NETWORK_RULES} rules, got ${rules.length}`)
  }
  return { rules: rules.map((r, i) => parseRule(r, i)) }
}

function parseRule(raw: unknown, i: number): NetworkRule {
  const at = `rule ${i}`
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(`${at} must be an object`)
  }
  // Unknown fields are ignored (§1.1); the stored rule keeps only the known ones.
  const r = raw as Record<string, unknown>
  const hasDomain = r.domain !== undefined
  const hasInclude = r.include !== undefined
  if (hasDomain === hasInclude) throw invalid(`${at} needs exactly one of "domain" or "include"`)
  if (hasInclude) {
    if (r.include !== 'defaults') throw invalid(`${at}: "include" can only be "defaults"`)
    if (r.action !== undefined) throw invalid(`${at}: "action" goes with "domain", not "include"`)
    return { include: 'defaults' }
  }
  if (typeof r.domain !== 'string' || !isDomainPattern(r.domain)) {
    throw invalid(`${at}: domain ${JSON.stringify(r.domain)} is not host.name, *.host.name or *`)
  }
  if (r.action !== 'allow' && r.action !== 'deny') {
    throw invalid(`${at}: "action" must be "allow" or "deny"`)
  }
  return { domain: r.domain, action: r.action }
}

/** True when the policy restricts anything (a non-empty rule list). */
export function isEnforced(policy: NetworkPolicy): boolean {
  return policy.rules.length > 0
}

/**
 * The domain rules with `defaults` expanded in place (plus `extraDefaults`, such as the
 * server's own host), patterns lowercased.
 */
export function expandNetworkRules(
  rules: readonly NetworkRule[],
  extraDefaults: readonly string[] = [],
): DomainRule[] {
  const out: DomainRule[] = []
  for (const r of rules) {
    if ('include' in r) {
      for (const d of [...DEFAULT_ALLOWED_DOMAINS, ...extraDefaults]) {
        out.push({ domain: d.toLowerCase(), action: 'allow' })
      }
    } else {
      out.push({ domain: r.domain.toLowerCase(), action: r.action })
    }
  }
  return out
}

/**
 * Decides a DNS name against expanded rules: no rules allow everything; otherwise the exact
 * name beats the longest matching `*.` suffix, which beats `*`; at equal specificity `deny`
 * wins; a name no rule matches is denied.
 */
export function decideName(rules: readonly DomainRule[], name: string): EgressDecision {
  if (rules.length === 0) return 'allow'
  const n = name.toLowerCase().replace(/\.$/, '')
  let best = -1
  let decision: EgressDecision = 'deny'
  for (const r of rules) {
    const rank = specificity(r.domain, n)
    if (rank < 0 || rank < best) continue
    if (rank > best) {
      best = rank
      decision = r.action
    } else if (r.action === 'deny') {
      decision = 'deny'
    }
  }
  return decision
}

/** -1: no match; 0: `*`; 1 + suffix length: `*.suffix`; Infinity: exact. */
function specificity(pattern: string, name: string): number {
  if (pattern === '*') return 0
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1)
    return name.endsWith(suffix) && name.length > suffix.length ? suffix.length : -1
  }
  return pattern === name ? Number.POSITIVE_INFINITY : -1
}
