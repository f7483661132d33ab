/** Wire (snake_case) to SDK (camelCase) conversion, in one place for the SDK. */
import type {
  SessionInfoMessage,
  SessionWire,
  SpriteInfoWire,
  SpriteListWire,
} from '@sprites/protocol'
import type {
  CreateSpriteOptions,
  KillEvent,
  Organization,
  SessionInfo,
  SessionSummary,
  Sprite,
  SpriteList,
  UpdateSpriteOptions,
  URLSettings,
} from './types.ts'

type Loose<T> = { [K in keyof T]?: T[K] | null }

function date(v: unknown): Date | null {
  if (typeof v !== 'string' || v === '') return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d
}

function urlSettingsFromWire(w: Loose<SpriteInfoWire>['url_settings']): URLSettings {
  const out: URLSettings = { auth: w?.auth === 'public' ? 'public' : 'sprite' }
  if (w?.private_access) out.privateAccess = w.private_access
  return out
}

/** SpriteInfo (§2.1) → Sprite. Missing fields get empty values. */
export function spriteFromWire(raw: unknown): Sprite {
  const w = (raw ?? {}) as Loose<SpriteInfoWire>
  const c = w.config ?? undefined
  return {
    id: w.id ?? '',
    name: w.name ?? '',
    organization: w.organization ?? w.org_slug ?? '',
    status: w.status ?? 'cold',
    config: {
      ramMB: c?.ram_mb ?? 0,
      cpus: c?.cpus ?? 0,
      region: c?.region ?? '',
      storageGB: c?.storage_gb ?? 0,
    },
    environment: w.environment ?? {},
    url: w.url ?? '',
    urlSettings: urlSettingsFromWire(w.url_settings),
    labels: w.labels ?? [],
    createdAt: date(w.created_at),
    updatedAt: date(w.updated_at),
    lastRunningAt: date(w.last_running_at),
    lastWarmingAt: date(w.last_warming_at),
    lastStartedAt: date(w.last_started_at),
    lastActiveAt: date(w.last_active_at),
    version: w.version ?? '',
  }
}

/** M2 list response → SpriteList. */
export function spriteListFromWire(raw: unknown): SpriteList {
  const w = (raw ?? {}) as Loose<SpriteListWire>
  const org = w.org ?? undefined
  return {
    sprites: (w.sprites ?? []).map(spriteFromWire),
    hasMore: w.has_more === true,
    nextContinuationToken: w.next_continuation_token || null,
    organizationName: w.name ?? org?.name ?? '',
    running: w.running ?? org?.running ?? 0,
    warm: w.warm ?? org?.warm ?? 0,
    cold: w.cold ?? org?.cold ?? 0,
    runningLimit: w.running_limit ?? org?.running_limit ?? 0,
    warmLimit: w.warm_limit ?? org?.warm_limit ?? 0,
  }
}

function urlSettingsToWire(s: URLSettings): Record<string, unknown> {
  return s.privateAccess ? { auth: s.auth, private_access: s.privateAccess } : { auth: s.auth }
}

/** createSprite arguments → M1 body. */
export function createBodyToWire(name: string, o: CreateSpriteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { name }
  if (o.config) {
    const { ramMB, cpus, region, storageGB } = o.config
    body.config = { ram_mb: ramMB, cpus, region, storage_gb: storageGB }
  }
  if (o.environment) body.environment = o.environment
  if (o.urlSettings) body.url_settings = urlSettingsToWire(o.urlSettings)
  if (o.labels) body.labels = o.labels
  if (o.waitForCapacity !== undefined) body.wait_for_capacity = o.waitForCapacity
  if (o.runtime) body.runtime = o.runtime
  if (o.from) body.from = o.from
  return body
}

/** updateSprite arguments → M5 body. */
export function updateBodyToWire(o: UpdateSpriteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (o.labels) body.labels = o.labels
  if (o.clearLabels) body.clear_labels = true
  if (o.urlSettings) body.url_settings = urlSettingsToWire(o.urlSettings)
  return body
}

/** §3.10 entry → SessionSummary. */
export function sessionFromWire(raw: unknown): SessionSummary {
  const w = (raw ?? {}) as Loose<SessionWire>
  return {
    id: Number(w.id ?? 0),
    command: w.command ?? '',
    workdir: w.workdir ?? '',
    created: date(w.created),
    lastActivity: date(w.last_activity),
    bytesPerSecond: w.bytes_per_second ?? 0,
    isActive: w.is_active === true,
    tty: w.tty === true,
  }
}

/** `session_info` message → SessionInfo. */
export function sessionInfoFromWire(w: Loose<SessionInfoMessage>): SessionInfo {
  return {
    sessionID: Number(w.session_id ?? 0),
    command: w.command ?? '',
    created: new Date(Number(w.created ?? 0) * 1000),
    cols: w.cols ?? 0,
    rows: w.rows ?? 0,
    isOwner: w.is_owner === true,
    tty: w.tty === true,
  }
}

/** M10 response → Organization. */
export function orgFromWire(raw: unknown): Organization {
  const o = ((raw as { organization?: Record<string, unknown> })?.organization ?? {}) as Record<
    string,
    unknown
  >
  return {
    slug: String(o.slug ?? ''),
    spritesEnabled: o.sprites_enabled !== false,
    activeSprites: Array.isArray(o.active_sprites) ? o.active_sprites.map(String) : [],
    maxSprites: Number(o.max_sprites ?? 0),
    activeSpriteLimit: Number(o.active_sprite_limit ?? 0),
  }
}

/** Kill stream line → KillEvent (`exit_code` → `exitCode`). */
export function killEventFromWire(raw: Record<string, unknown>): KillEvent {
  if (raw.type === 'complete') {
    return typeof raw.exit_code === 'number'
      ? { type: 'complete', exitCode: raw.exit_code }
      : { type: 'complete' }
  }
  return raw as unknown as KillEvent
}
