/** Wire shapes of the Sprites API (snake_case, as sent). See ../../shared/docs/sprites-api.md. */

export type SpriteStatus = 'cold' | 'warm' | 'running'

export interface SpriteConfigWire {
  ram_mb: number
  cpus: number
  region: string
  storage_gb: number
}

export interface URLSettingsWire {
  auth: 'sprite' | 'public'
  private_access?: 'admins' | 'org_users'
}

/** X3: the hibernation timings in force for a sprite (its own, else the server's), in seconds. */
export interface SpriteLifecycleWire {
  /** Idle time before running → warm. */
  warm_after_s: number
  /** Time warm before warm → cold, counted from the moment the sprite went warm. */
  cold_after_s: number
}

/** SpriteInfo (§2.1). */
export interface SpriteInfoWire {
  id: string
  name: string
  organization: string
  org_slug: string
  status: SpriteStatus
  config: SpriteConfigWire
  environment: Record<string, string>
  url: string
  url_settings: URLSettingsWire
  labels: string[]
  created_at: string
  updated_at: string
  last_running_at: string | null
  last_warming_at: string | null
  last_started_at: string | null
  last_active_at: string | null
  version: string
  environment_version: string
  primary_region: string
  /** X3 (ours). */
  lifecycle: SpriteLifecycleWire
}

export interface OrgCountersWire {
  name: string
  running: number
  warm: number
  cold: number
  running_limit: number
  warm_limit: number
}

/** M2 list response. */
export interface SpriteListWire extends OrgCountersWire {
  sprites: SpriteInfoWire[]
  has_more: boolean
  next_continuation_token: string | null
  org: OrgCountersWire
}

/** M1 create request (snake_case, camel aliases accepted by the server). */
export interface CreateSpriteRequest {
  name: string
  config?: Partial<SpriteConfigWire>
  environment?: Record<string, string>
  url_settings?: URLSettingsWire
  labels?: string[]
  wait_for_capacity?: boolean
  runtime?: 'default' | 'dev'
  /** X3 (ours): per-sprite timings; a missing field takes the server's setting. */
  lifecycle?: Partial<SpriteLifecycleWire>
}

export interface UpdateSpriteRequest {
  url_settings?: URLSettingsWire
  labels?: string[]
  clear_labels?: boolean
  /** X3 (ours): null (whole or per field) goes back to the server's setting. */
  lifecycle?: { warm_after_s?: number | null; cold_after_s?: number | null } | null
}

/** First text frame of every exec/attach socket (§3.6). */
export interface SessionInfoMessage {
  type: 'session_info'
  session_id: number
  command: string
  /** Unix seconds. */
  created: number
  cols: number
  rows: number
  is_owner: boolean
  tty: boolean
}

export interface ExitMessage {
  type: 'exit'
  exit_code: number
}

export interface ResizeMessage {
  type: 'resize'
  cols?: number
  rows?: number
}

export interface SignalMessage {
  type: 'signal'
  signal: string
}

/** A TCP listener appearing or going away (§3.6 in exec sessions, §9.2 on `ports/watch`). */
export interface PortEventMessage {
  type: 'port_opened' | 'port_closed'
  port: number
  /** The listening IP (`127.0.0.1`, `0.0.0.0`, `::`): what `/proxy` dials (D8). */
  address: string
  /** Pid inside the sprite of the listening process; 0 when unknown. */
  pid: number
}

/** First message of `ports/watch` (§9.2): the listeners open right now. */
export interface PortListMessage {
  type: 'port_list'
  ports: PortEventMessage[]
}

/** §3.10 entry. */
export interface SessionWire {
  id: number
  command: string
  workdir: string
  created: string
  last_activity?: string
  bytes_per_second: number
  is_active: boolean
  tty: boolean
}

export interface SessionListWire {
  sessions: SessionWire[]
  count: number
}

/** §3.11 kill stream events. */
export type KillEvent =
  | { type: 'signal'; message: string; signal: string; pid: number }
  | { type: 'timeout'; message: string }
  | { type: 'exited'; message: string }
  | { type: 'killed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'complete'; exit_code?: number }

/** Header names and defaults (§1.5). */
export const SPRITE_VERSION_HEADER = 'Sprite-Version'
export const DEFAULT_SPRITE_VERSION = '0.0.1-rc46'
export const CAPABILITIES_HEADER = 'X-Sprite-Capabilities'

/** Exec defaults (§3.3). */
export const SPRITE_UID = 1001
export const SPRITE_GID = 1001
export const SPRITE_HOME = '/home/sprite'
export const DEFAULT_PATH =
  '/.sprite/bin:/home/sprite/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export const DEFAULT_EXEC_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: DEFAULT_PATH,
  HOME: SPRITE_HOME,
  USER: 'sprite',
  LOGNAME: 'sprite',
  SHELL: '/bin/bash',
  LANG: 'C.UTF-8',
})
