import type { OrgRecord, SpriteRecord, TokenRecord } from '../store.ts'

export interface OrgRow {
  id: string
  slug: string
  created_at: number
}

export interface TokenRow {
  id: string
  org_id: string
  description: string
  created_at: number
}

export interface SpriteRow {
  id: string
  org_id: string
  name: string
  status: string
  op_state: string
  config: string
  environment: string
  url_settings: string
  labels: string
  runtime: string
  /** JSON of SpriteRecord.lifecycle; NULL when the sprite has none. */
  lifecycle: string | null
  /** JSON of SpriteRecord.policies; NULL when no policy is set. */
  policies: string | null
  slot: number
  uid_base: number
  version: string
  created_at: number
  updated_at: number
  last_running_at: number | null
  last_warming_at: number | null
  last_started_at: number | null
  last_active_at: number | null
}

const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms))
const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime())

export function orgFromRow(r: OrgRow): OrgRecord {
  return { id: r.id, slug: r.slug, createdAt: new Date(r.created_at) }
}

export function tokenFromRow(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    orgID: r.org_id,
    description: r.description,
    createdAt: new Date(r.created_at),
  }
}

export function spriteFromRow(r: SpriteRow): SpriteRecord {
  return {
    id: r.id,
    orgID: r.org_id,
    name: r.name,
    status: r.status as SpriteRecord['status'],
    opState: r.op_state as SpriteRecord['opState'],
    config: JSON.parse(r.config),
    environment: JSON.parse(r.environment),
    urlSettings: JSON.parse(r.url_settings),
    labels: JSON.parse(r.labels),
    runtime: r.runtime,
    ...(r.lifecycle === null ? {} : { lifecycle: JSON.parse(r.lifecycle) }),
    ...(r.policies === null ? {} : { policies: JSON.parse(r.policies) }),
    slot: r.slot,
    uidBase: r.uid_base,
    version: r.version,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    lastRunningAt: dateOrNull(r.last_running_at),
    lastWarmingAt: dateOrNull(r.last_warming_at),
    lastStartedAt: dateOrNull(r.last_started_at),
    lastActiveAt: dateOrNull(r.last_active_at),
  }
}

export function spriteToRow(s: SpriteRecord): SpriteRow {
  return {
    id: s.id,
    org_id: s.orgID,
    name: s.name,
    status: s.status,
    op_state: s.opState,
    config: JSON.stringify(s.config),
    environment: JSON.stringify(s.environment),
    url_settings: JSON.stringify(s.urlSettings),
    labels: JSON.stringify(s.labels),
    runtime: s.runtime,
    lifecycle: s.lifecycle === undefined ? null : JSON.stringify(s.lifecycle),
    policies: s.policies === undefined ? null : JSON.stringify(s.policies),
    slot: s.slot,
    uid_base: s.uidBase,
    version: s.version,
    created_at: s.createdAt.getTime(),
    updated_at: s.updatedAt.getTime(),
    last_running_at: msOrNull(s.lastRunningAt),
    last_warming_at: msOrNull(s.lastWarmingAt),
    last_started_at: msOrNull(s.lastStartedAt),
    last_active_at: msOrNull(s.lastActiveAt),
  }
}
