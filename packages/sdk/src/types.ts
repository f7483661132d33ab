/** SDK-side (camelCase) shapes of the Sprites API objects. */
import type { SpriteStatus } from '@sprites/protocol'

/** Machine figures of a sprite (§2.1 `config`). */
export interface SpriteConfig {
  ramMB: number
  cpus: number
  region: string
  storageGB: number
}

/** Who may reach the sprite's URL (§2.1 `url_settings`). */
export interface URLSettings {
  auth: 'sprite' | 'public'
  privateAccess?: 'admins' | 'org_users'
}

/** A sprite as returned by get, list, create and update. */
export interface Sprite {
  id: string
  name: string
  organization: string
  status: SpriteStatus
  config: SpriteConfig
  environment: Record<string, string>
  url: string
  urlSettings: URLSettings
  labels: string[]
  createdAt: Date | null
  updatedAt: Date | null
  lastRunningAt: Date | null
  lastWarmingAt: Date | null
  lastStartedAt: Date | null
  lastActiveAt: Date | null
  version: string
}

/** Options of `createSprite`. */
export interface CreateSpriteOptions {
  config?: Partial<SpriteConfig>
  environment?: Record<string, string>
  urlSettings?: URLSettings
  labels?: string[]
  waitForCapacity?: boolean
  runtime?: 'default' | 'dev'
  /** X1: fork from a checkpoint of another sprite (without `checkpoint`: its live state). */
  from?: { sprite: string; checkpoint?: string }
}

/** A filesystem checkpoint (§6), with its space (X2) when the server reports it. */
export interface Checkpoint {
  id: string
  createTime: Date
  comment?: string
  /** The checkpoint the live state descended from when this one was taken. */
  sourceID?: string
  /** Ancestors, nearest first. */
  history: string[]
  isAuto: boolean
  health: string
  exclusiveBytes?: number
  sharedBytes?: number
}

/** One progress line of checkpoint create/restore; the last is `complete` (or `error`). */
export interface CheckpointEvent {
  type: 'info' | 'complete' | 'error'
  message: string
  /** The new checkpoint's id, on the `complete` event of a create. */
  id?: string
}

/** Options of `listCheckpoints`. */
export interface ListCheckpointsOptions {
  /** Only this checkpoint and those descending from it. */
  history?: string
  /** Also the automatic restore backups (`auto-N`). */
  includeAuto?: boolean
}

/** Options of `updateSprite`; at least one field is required by the server. */
export interface UpdateSpriteOptions {
  labels?: string[]
  clearLabels?: boolean
  urlSettings?: URLSettings
}

/** Options of `listSprites`. */
export interface ListSpritesOptions {
  prefix?: string
  /** Page size, 1-100. @default 50 (server) */
  maxResults?: number
  continuationToken?: string
}

/** One page of sprites plus the org's counters. */
export interface SpriteList {
  sprites: Sprite[]
  hasMore: boolean
  nextContinuationToken: string | null
  organizationName: string
  running: number
  warm: number
  cold: number
  runningLimit: number
  warmLimit: number
}

/** The caller's organization (M10). */
export interface Organization {
  slug: string
  spritesEnabled: boolean
  activeSprites: string[]
  maxSprites: number
  activeSpriteLimit: number
}

/** A running exec session (§3.10). */
export interface SessionSummary {
  id: number
  command: string
  workdir: string
  created: Date | null
  lastActivity: Date | null
  bytesPerSecond: number
  isActive: boolean
  tty: boolean
}

/** `session_info`, the first message of every exec and attach socket (§3.6). */
export interface SessionInfo {
  sessionID: number
  command: string
  created: Date
  cols: number
  rows: number
  isOwner: boolean
  tty: boolean
}

/** One event of the kill stream (§3.11); `complete` is last. */
export type KillEvent =
  | { type: 'signal'; message: string; signal: string; pid: number }
  | { type: 'timeout' | 'exited' | 'killed' | 'error'; message: string }
  | { type: 'complete'; exitCode?: number }

/** Options of `killSession`. */
export interface KillSessionOptions {
  /** Signal name or number. @default 'SIGTERM' (server) */
  signal?: string
  /** Grace period before SIGKILL, Go duration or seconds; `0` = signal only. @default '10s' (server) */
  timeout?: string | number
}

/** Result of `execHTTP`. */
export interface ExecResult {
  stdout: Buffer
  stderr: Buffer
  exitCode: number
}

/** A TCP listener in a sprite (`port_opened` / `port_closed`, §3.6 and §9.2). */
export interface PortEvent {
  port: number
  /** The listening IP (`127.0.0.1`, `0.0.0.0`, `::`): what a proxy dials (D8). */
  address: string
  /** Pid inside the sprite of the listening process; 0 when unknown. */
  pid: number
}

export type { DomainRule, IncludeRule, NetworkPolicy, NetworkRule } from '@sprites/protocol'

/** Process privilege restrictions (§8.2), camelCase on the wire too; stored only in v1. */
export interface PrivilegesPolicy {
  profile?: 'minimal' | 'standard' | 'privileged'
  devices?: string[]
  noNewPrivileges?: boolean
}

/** Memory policy (§8.2): `limitMB` becomes the memory limit at the sprite's next cold boot. */
export interface ResourcesPolicy {
  memory?: { limitMB: number; autoscale?: boolean }
}
