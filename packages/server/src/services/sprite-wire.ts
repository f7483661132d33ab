import type { SpriteInfoWire, SpriteStatus } from '@sprites/protocol'
import type { OrgRecord, SpriteRecord } from '@sprites/store'
import type { ServerConfig } from '../config.ts'
import { type LifecycleDefaults, lifecycleToWire } from './sprite-lifecycle.ts'

/** The parts of the server config that shape a sprite's URL. */
export type WireConfig = Pick<ServerConfig, 'baseDomain' | 'spriteURL'>

/** The parts of the server config that shape a sprite's wire form. */
export type SpriteWireConfig = WireConfig & {
  /** The server's timings, echoed for a sprite without its own (X3). */
  readonly lifecycle: LifecycleDefaults
}

/** `<scheme>://<name>-<org id>.<base domain>[:port]` (sprites-api.md §10); default ports omitted. */
export function spriteURL(name: string, org: Pick<OrgRecord, 'id'>, config: WireConfig): string {
  const { scheme, port } = config.spriteURL
  const defaultPort = scheme === 'https' ? 443 : 80
  const suffix = port === null || port === defaultPort ? '' : `:${port}`
  return `${scheme}://${name}-${org.id}.${config.baseDomain}${suffix}`
}

const time = (d: Date | null): string | null => (d ? d.toISOString() : null)

/** SpriteInfo (§2.1) of a record: every field, times RFC 3339 or null, the given live status. */
export function toWire(
  sprite: SpriteRecord,
  org: OrgRecord,
  status: SpriteStatus,
  config: SpriteWireConfig,
): SpriteInfoWire {
  const urlSettings: SpriteInfoWire['url_settings'] = { auth: sprite.urlSettings.auth }
  if (sprite.urlSettings.privateAccess)
    urlSettings.private_access = sprite.urlSettings.privateAccess
  return {
    id: sprite.id,
    name: sprite.name,
    organization: org.slug,
    org_slug: org.slug,
    status,
    config: {
      ram_mb: sprite.config.ramMB,
      cpus: sprite.config.cpus,
      region: sprite.config.region,
      storage_gb: sprite.config.storageGB,
    },
    environment: { ...sprite.environment },
    url: spriteURL(sprite.name, org, config),
    url_settings: urlSettings,
    labels: [...sprite.labels],
    created_at: sprite.createdAt.toISOString(),
    updated_at: sprite.updatedAt.toISOString(),
    last_running_at: time(sprite.lastRunningAt),
    last_warming_at: time(sprite.lastWarmingAt),
    last_started_at: time(sprite.lastStartedAt),
    last_active_at: time(sprite.lastActiveAt),
    version: sprite.version,
    environment_version: sprite.version,
    primary_region: sprite.config.region,
    lifecycle: lifecycleToWire(sprite.lifecycle, config.lifecycle),
  }
}
