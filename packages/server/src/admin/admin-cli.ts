import { isSpritesError } from '@sprites/protocol'
import type { OrgRecord, Store } from '@sprites/store'

/** `spritesd org …` and `spritesd token …`: the operator's commands on the configured store. */
export const ADMIN_COMMANDS = ['org', 'token'] as const

const USAGE = `usage:
  spritesd org list
  spritesd org create SLUG [--description TEXT]   creates the org and its first token
  spritesd token list [--org SLUG]
  spritesd token create --org SLUG [--description TEXT]
  spritesd token revoke TOKEN_ID`

/** Where the commands write: lines for people, one value per line for scripts. */
export interface AdminIO {
  out(line: string): void
  err(line: string): void
}

/**
 * The admin flags of `argv` (`--org`, `--description`, as `--x v` or `--x=v`), its positionals,
 * and the rest for the server's config flags, which all take a value.
 */
export function splitAdminArgs(argv: readonly string[]): {
  positionals: string[]
  org: string | undefined
  description: string | undefined
  rest: string[]
} {
  const own: Record<string, string | undefined> = {}
  const positionals: string[] = []
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (!arg.startsWith('--')) {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (name === 'org' || name === 'description') own[name] = value
    else rest.push(`--${name}`, ...(value === undefined ? [] : [value]))
  }
  return { positionals, org: own.org, description: own.description, rest }
}

/**
 * Runs `spritesd org|token <verb>` against the store; returns the exit code (0 done, 1 refused
 * with a one-line reason, 2 usage). The running server sees the change at its next lookup
 * (URL credentials within 5 s).
 */
export async function runAdmin(
  store: Store,
  noun: string,
  args: ReturnType<typeof splitAdminArgs>,
  io: AdminIO,
): Promise<number> {
  const [verb, operand] = args.positionals
  try {
    if (noun === 'org' && verb === 'list') return await listOrgs(store, io)
    if (noun === 'org' && verb === 'create' && operand) {
      const org = await store.createOrg(operand)
      return await issue(store, org, args.description ?? 'admin (spritesd org create)', io)
    }
    if (noun === 'token' && verb === 'list') return await listTokens(store, args.org, io)
    if (noun === 'token' && verb === 'create' && args.org) {
      const org = await orgBySlug(store, args.org)
      return await issue(store, org, args.description ?? 'spritesd token create', io)
    }
    if (noun === 'token' && verb === 'revoke' && operand) return await revoke(store, operand, io)
  } catch (err) {
    io.err(`spritesd ${noun} ${verb}: ${isSpritesError(err) ? err.message : String(err)}`)
    return 1
  }
  io.err(USAGE)
  return 2
}

async function orgBySlug(store: Store, slug: string): Promise<OrgRecord> {
  const org = await store.getOrgBySlug(slug)
  if (!org) throw new Error(`no org ${JSON.stringify(slug)} (see spritesd org list)`)
  return org
}

async function issue(store: Store, org: OrgRecord, description: string, io: AdminIO) {
  const { token, record } = await store.createToken(org.id, description)
  io.err(`token ${record.id} for org ${org.slug} (${org.id}); use it with:`)
  io.err(`  sprite auth setup --token '<the token below>'   or   SPRITE_TOKEN=… sprite list`)
  io.out(token)
  return 0
}

async function listOrgs(store: Store, io: AdminIO): Promise<number> {
  const rows = (await store.listOrgs()).map((o) => [o.slug, o.id, o.createdAt.toISOString()])
  printTable(io, ['SLUG', 'ID', 'CREATED'], rows)
  return 0
}

async function listTokens(store: Store, slug: string | undefined, io: AdminIO): Promise<number> {
  const orgs = slug ? [await orgBySlug(store, slug)] : await store.listOrgs()
  const rows: string[][] = []
  for (const org of orgs) {
    for (const t of await store.listTokens(org.id)) {
      rows.push([t.id, org.slug, t.createdAt.toISOString(), t.description])
    }
  }
  printTable(io, ['ID', 'ORG', 'CREATED', 'DESCRIPTION'], rows)
  return 0
}

async function revoke(store: Store, tokenID: string, io: AdminIO): Promise<number> {
  const token = await store.getToken(tokenID)
  if (!token) throw new Error(`no token ${JSON.stringify(tokenID)} (see spritesd token list)`)
  await store.revokeToken(tokenID)
  io.err(
    `revoked ${tokenID}; API calls with it fail now, sprite URLs and browser logins within 5 s`,
  )
  return 0
}

function printTable(io: AdminIO, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  for (const r of [head, ...rows]) {
    io.out(
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
  }
}
