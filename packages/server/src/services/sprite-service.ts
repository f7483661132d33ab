import { errors, type OrgCountersWire, type SpriteInfoWire } from '@sprites/protocol'
import type { OrgRecord, SpriteRecord, Store } from '@sprites/store'
import type { ServerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import { createLimits } from './create-limits.ts'
import type { SpriteHost } from './sprite-host.ts'
import { parseCreateInput, parseUpdateInput } from './sprite-input.ts'
import { applyLifecyclePatch } from './sprite-lifecycle.ts'
import { toWire } from './sprite-wire.ts'

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 100

export interface ListQuery {
  prefix?: string
  /** Raw `max_results`: default 50; 1-100 honoured; above 100 clamped; below 1 or junk = default. */
  maxResults?: string | null
  continuationToken?: string | null
}

export interface SpritePage {
  sprites: SpriteRecord[]
  hasMore: boolean
  nextContinuationToken: string | null
}

export interface SpriteServiceDeps {
  store: Store
  host: SpriteHost
  config: Pick<
    ServerConfig,
    | 'baseDomain'
    | 'spriteURL'
    | 'spriteDefaults'
    | 'region'
    | 'runningLimit'
    | 'warmLimit'
    | 'lifecycle'
    | 'limits'
  >
  log: Logger
}

/** Sprite management (sprites-api.md §2.2), independent of HTTP. */
export type SpriteService = ReturnType<typeof createSpriteService>

export function createSpriteService({ store, host, config, log }: SpriteServiceDeps) {
  const defaults = () => ({ ...config.spriteDefaults, region: config.region })
  const limits = createLimits(config.limits)
  const createdListeners = new Set<(sprite: SpriteRecord) => void>()
  const deletedListeners = new Set<(sprite: SpriteRecord) => void>()

  /** Calls `listener` with every sprite created from now on; returns the unsubscribe function. */
  function onCreated(listener: (sprite: SpriteRecord) => void): () => void {
    createdListeners.add(listener)
    return () => createdListeners.delete(listener)
  }

  /** Calls `listener` with every sprite deleted from now on (M6); returns the unsubscribe function. */
  function onDeleted(listener: (sprite: SpriteRecord) => void): () => void {
    deletedListeners.add(listener)
    return () => deletedListeners.delete(listener)
  }

  /** @throws SpritesError sprite_not_found (404) when the org has no sprite of that name. */
  async function get(org: OrgRecord, name: string): Promise<SpriteRecord> {
    const sprite = await store.getSprite(org.id, name)
    if (!sprite) throw errors.spriteNotFound(name)
    return sprite
  }

  /**
   * M1: validates, inserts as `creating`, provisions (or, with `from`, forks the source's disk:
   * X1), marks `ready`. A failed provision removes the row and asks the host to destroy whatever
   * it made. A fork takes the source's config and lifecycle timings unless the body has them,
   * and always its policies (§8): a fork of a restricted sprite is as restricted.
   * @throws SpritesError invalid_argument, sprite_already_exists, insufficient_storage (pool full)
   */
  async function create(org: OrgRecord, body: unknown): Promise<SpriteRecord> {
    const { from, ...input } = parseCreateInput(body, defaults())
    const source = from ? await get(org, from.sprite) : undefined
    const admitted = await limits.admit(org.id, async () => {
      const counts = await store.countSprites(org.id)
      return Object.values(counts).reduce((a, b) => a + b, 0)
    })
    const hasConfig = (body as { config?: unknown }).config != null
    const sprite = await store
      .insertSprite({
        id: `sprite-${crypto.randomUUID()}`,
        orgID: org.id,
        status: 'cold',
        opState: 'creating',
        version: source?.version ?? host.imageVersion?.() ?? 'unknown',
        ...input,
        ...(source && !hasConfig ? { config: { ...source.config } } : {}),
        ...(source?.lifecycle && !input.lifecycle ? { lifecycle: { ...source.lifecycle } } : {}),
      })
      // Stored (or refused): the count sees it from now on.
      .finally(admitted)
    const slog = log.child({ spriteID: sprite.id, name: sprite.name, operation: 'create' })
    try {
      if (!source) await host.provision(sprite)
      else if (host.fork) await host.fork(source, from?.checkpoint, sprite)
      else throw errors.invalid('this server cannot fork sprites')
    } catch (err) {
      slog.error({ err }, 'provision failed; rolling back')
      await rollback(sprite, slog)
      throw err
    }
    const policies = source?.policies ? { policies: structuredClone(source.policies) } : {}
    const ready = await store.updateSprite(sprite.id, { opState: 'ready', ...policies })
    slog.info({ slot: ready.slot }, 'sprite created')
    for (const listener of createdListeners) listener(ready)
    return ready
  }

  async function rollback(sprite: SpriteRecord, slog: Logger): Promise<void> {
    await host
      .destroy(sprite)
      .catch((err: unknown) => slog.error({ err }, 'destroy after failed provision failed'))
    await store.deleteSprite(sprite.id)
  }

  /** M2: one page sorted by name; the continuation token is base64url of the last name. */
  async function list(org: OrgRecord, q: ListQuery): Promise<SpritePage> {
    const limit = pageSize(q.maxResults)
    const after = q.continuationToken ? decodeToken(q.continuationToken) : undefined
    const rows = await store.listSprites(org.id, {
      prefix: q.prefix || undefined,
      after,
      limit: limit + 1,
    })
    const sprites = rows.slice(0, limit)
    const hasMore = rows.length > limit
    const last = sprites.at(-1)
    return {
      sprites,
      hasMore,
      nextContinuationToken: hasMore && last ? encodeToken(last.name) : null,
    }
  }

  /** Org counters of list responses (from the stored statuses) and the configured limits. */
  async function counters(org: OrgRecord): Promise<OrgCountersWire> {
    const c = await store.countSprites(org.id)
    return {
      name: org.slug,
      ...c,
      running_limit: config.runningLimit,
      warm_limit: config.warmLimit,
    }
  }

  /** M5. @throws SpritesError invalid_argument when nothing is to be updated, sprite_not_found */
  async function update(org: OrgRecord, name: string, body: unknown): Promise<SpriteRecord> {
    const { lifecycle, ...input } = parseUpdateInput(body)
    const sprite = await get(org, name)
    return store.updateSprite(sprite.id, {
      ...input,
      ...(lifecycle ? { lifecycle: applyLifecyclePatch(sprite.lifecycle, lifecycle) } : {}),
    })
  }

  /** M6: marks `deleting`, destroys on the host, deletes the row. A failed destroy leaves `deleting`. */
  async function remove(org: OrgRecord, name: string): Promise<void> {
    const sprite = await get(org, name)
    const marked = await store.updateSprite(sprite.id, { opState: 'deleting' })
    await host.destroy(marked)
    await store.deleteSprite(sprite.id)
    log.info({ spriteID: sprite.id, name, operation: 'delete' }, 'sprite deleted')
    for (const listener of deletedListeners) listener(sprite)
  }

  function wire(org: OrgRecord, sprite: SpriteRecord): SpriteInfoWire {
    return toWire(sprite, org, host.status(sprite), config)
  }

  /** M9: health without waking; warm and cold report `hibernated`. */
  async function check(org: OrgRecord, name: string, now: () => Date) {
    const started = performance.now()
    const sprite = await get(org, name)
    const status = host.status(sprite)
    return {
      sprite_name: sprite.name,
      sprite_id: sprite.id,
      status: status === 'running' ? 'healthy' : 'hibernated',
      reason: null,
      checked_at: now().toISOString(),
      elapsed: Math.round(performance.now() - started),
    }
  }

  /** M8: restart through the host; `machine_id` is the host's sandbox id. */
  async function restart(org: OrgRecord, name: string) {
    const sprite = await get(org, name)
    const result = host.restart ? await host.restart(sprite) : { machineID: sprite.id }
    return { sprite_name: sprite.name, machine_id: result.machineID, message: 'sprite restarted' }
  }

  /**
   * M7: the sprite takes the server's installed base image version (one image is installed, so
   * a requested `version` is ignored). Its root filesystem is its own disk, cloned from the
   * image at create: the next cold boot rewrites only the files the image manages
   * (host/system-files.ts) and leaves the rest as it is; what the server mounts in at every boot
   * (`/.sprite/bin`, the logs, policy and checkpoint views) is always current.
   */
  async function upgrade(org: OrgRecord, name: string, version: string | undefined) {
    const sprite = await get(org, name)
    await host.upgrade?.(sprite, version)
    const installed = host.imageVersion?.()
    if (installed && installed !== sprite.version) {
      await store.updateSprite(sprite.id, { version: installed })
    }
    return { name: sprite.name, status: 'upgraded' }
  }

  return {
    get,
    create,
    list,
    counters,
    update,
    remove,
    check,
    restart,
    upgrade,
    toWire: wire,
    host,
    onCreated,
    onDeleted,
  }
}

function pageSize(raw: string | null | undefined): number {
  const n = raw ? Number.parseInt(raw, 10) : Number.NaN
  if (!Number.isFinite(n) || n < 1) return DEFAULT_PAGE_SIZE
  return Math.min(n, MAX_PAGE_SIZE)
}

export function encodeToken(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url')
}

/** @throws SpritesError invalid_argument for a token this server did not issue. */
export function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8')
  if (!/^[a-z0-9-]{1,57}$/.test(name)) throw errors.invalid('invalid continuation_token')
  return name
}
