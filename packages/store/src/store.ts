import type { NetworkPolicy, SpriteStatus } from '@sprites/protocol'
import type { CheckpointStore } from './checkpoints.ts'

/** An organization: every token and sprite belongs to exactly one. */
export interface OrgRecord {
  /** 5 characters of [a-z0-9], generated once. */
  readonly id: string
  readonly slug: string
  readonly createdAt: Date
}

export interface TokenRecord {
  readonly id: string
  readonly orgID: string
  readonly description: string
  readonly createdAt: Date
}

export interface SpriteConfig {
  ramMB: number
  cpus: number
  region: string
  storageGB: number
}

export interface URLSettings {
  auth: 'sprite' | 'public'
  privateAccess?: 'admins' | 'org_users'
}

/**
 * Per-sprite hibernation timings (X3), in seconds; a field left out takes the server's setting.
 * `coldAfterS` counts from the moment the sprite went warm.
 */
export interface SpriteLifecycle {
  warmAfterS?: number
  coldAfterS?: number
}

/** The privileges policy (§8.2): stored and returned as given; no effect in v1. */
export interface PrivilegesPolicy {
  profile?: 'minimal' | 'standard' | 'privileged'
  devices?: string[]
  noNewPrivileges?: boolean
}

/** The resources policy (§8.2), wire-shaped: `memory.limit_mb` is the memory limit from the next cold boot. */
export interface ResourcesPolicy {
  memory: { limit_mb: number; autoscale: boolean }
}

/**
 * A sprite's policies (§8), each kind absent until set. An absent `network` means `{rules: []}`:
 * no enforcement.
 */
export interface SpritePolicies {
  network?: NetworkPolicy
  privileges?: PrivilegesPolicy
  resources?: ResourcesPolicy
}

/** Where a sprite is in a multi-step operation; anything but `ready` is finished or rolled back at start-up. */
export type SpriteOpState = 'creating' | 'ready' | 'deleting'

export interface SpriteRecord {
  /** `sprite-<uuid v4>`, never reused. */
  readonly id: string
  readonly orgID: string
  readonly name: string
  status: SpriteStatus
  opState: SpriteOpState
  config: SpriteConfig
  environment: Record<string, string>
  urlSettings: URLSettings
  labels: string[]
  runtime: string
  /** X3 overrides of the server's hibernation timings; absent = the server's settings. */
  lifecycle?: SpriteLifecycle
  /** §8 policies; absent = none set. Changed as a whole through `updateSprite(id, { policies })`. */
  policies?: SpritePolicies
  /** Small integer unique among live sprites; names the netns, veth and address block. */
  readonly slot: number
  /** First host uid of the 65536 that the sprite's user namespace maps. */
  readonly uidBase: number
  version: string
  readonly createdAt: Date
  updatedAt: Date
  lastRunningAt: Date | null
  lastWarmingAt: Date | null
  lastStartedAt: Date | null
  lastActiveAt: Date | null
}

export type NewSprite = Omit<
  SpriteRecord,
  | 'slot'
  | 'uidBase'
  | 'createdAt'
  | 'updatedAt'
  | 'lastRunningAt'
  | 'lastWarmingAt'
  | 'lastStartedAt'
  | 'lastActiveAt'
>

export type SpritePatch = Partial<
  Pick<
    SpriteRecord,
    | 'status'
    | 'opState'
    | 'environment'
    | 'urlSettings'
    | 'labels'
    | 'lifecycle'
    | 'version'
    | 'lastRunningAt'
    | 'lastWarmingAt'
    | 'lastStartedAt'
    | 'lastActiveAt'
  >
> & {
  /** Per kind: a value replaces that kind, `null` removes it, absent keeps it. */
  policies?: PoliciesPatch
}

/** A change to some kinds of a sprite's policies; the kinds left out stay as they are. */
export type PoliciesPatch = { [K in keyof SpritePolicies]?: SpritePolicies[K] | null }

export interface ListSpritesOptions {
  prefix?: string
  /** Return names strictly greater than this one (pagination cursor). */
  after?: string
  limit: number
}

/**
 * Persistent state of the control plane. Every method is async so that a networked
 * implementation (PostgreSQL) fits the same contract as SQLite and the in-memory fake.
 * Errors are SpritesError: `sprite_already_exists` on a duplicate name in one org.
 */
export interface Store extends CheckpointStore {
  createOrg(slug: string): Promise<OrgRecord>
  getOrg(id: string): Promise<OrgRecord | null>
  getOrgBySlug(slug: string): Promise<OrgRecord | null>
  listOrgs(): Promise<OrgRecord[]>

  /** Issues a four-part token `<org-slug>/<org-id>/<token-id>/<secret>`; only its hash is stored. */
  createToken(orgID: string, description: string): Promise<{ token: string; record: TokenRecord }>
  /** Looks a token up by its full value; null when unknown or malformed. */
  resolveToken(token: string): Promise<{ org: OrgRecord; token: TokenRecord } | null>
  revokeToken(tokenID: string): Promise<void>
  /** One token's record by id (never its value); null when unknown or revoked. */
  getToken(tokenID: string): Promise<TokenRecord | null>
  /** The org's tokens, oldest first. */
  listTokens(orgID: string): Promise<TokenRecord[]>

  /** Inserts a sprite, allocating its slot and uid range. */
  insertSprite(sprite: NewSprite): Promise<SpriteRecord>
  getSprite(orgID: string, name: string): Promise<SpriteRecord | null>
  getSpriteByID(id: string): Promise<SpriteRecord | null>
  listSprites(orgID: string, opts: ListSpritesOptions): Promise<SpriteRecord[]>
  /** All sprites of every org (start-up reconciliation). */
  listAllSprites(): Promise<SpriteRecord[]>
  countSprites(orgID: string): Promise<Record<SpriteStatus, number>>
  /** Applies the patch and bumps `updatedAt` when a user-visible field changed. */
  updateSprite(id: string, patch: SpritePatch): Promise<SpriteRecord>
  deleteSprite(id: string): Promise<void>

  /**
   * A store that several processes can open (PostgreSQL) lets one server claim it until
   * `close()` or the end of the process; operator commands do not claim. `onLost` hears when the
   * claim is gone without `close()` (the connection that held it dropped): the server must stop.
   * Absent where the file or memory is the process's own (the server locks an SQLite file itself).
   * @throws SpritesError conflict while another server holds it
   */
  claimServer?(onLost: (err: Error) => void): Promise<void>

  close(): Promise<void>
}
