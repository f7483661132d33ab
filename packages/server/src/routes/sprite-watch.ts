import type { OrgCountersWire, SpriteStatus } from '@sprites/protocol'
import type { OrgRecord, SpriteRecord } from '@sprites/store'
import type { RequestContext } from '../http/context.ts'
import { type NDJSONStream, startNDJSON } from '../http/ndjson.ts'
import type { ModuleAPI } from '../module-api.ts'

/** Interval between heartbeat lines of the list watch (§2.2 M3). */
export const WATCH_HEARTBEAT_MS = 15_000

/**
 * M3: the list as NDJSON: one line per matching sprite, then one per status change reported by
 * the host and one (`cold`) per sprite created meanwhile, and a heartbeat every 15 s; it ends
 * only when the client leaves or the server closes.
 */
export function watchSprites(api: ModuleAPI) {
  const open = new Set<NDJSONStream>()
  api.onClose(() => {
    for (const s of open) s.end()
  })
  return async (ctx: RequestContext): Promise<void> => {
    const prefix = ctx.query.get('prefix') ?? ''
    const all = await api.store.listSprites(ctx.org.id, { prefix, limit: Number.MAX_SAFE_INTEGER })
    const stream = startNDJSON(ctx.res)
    open.add(stream)
    const now = () => api.clock.now().toISOString()
    const counters = () => api.sprites.counters(ctx.org)
    const org = await counters()
    for (const s of all) stream.write(line(s, api.host.status(s), now(), org))
    const unsubscribe = api.host.subscribe?.((e) => void onChange(ctx.org, e.spriteID, e.status))
    const unsubscribeCreated = api.sprites.onCreated((s) => {
      if (s.orgID !== ctx.org.id || !s.name.startsWith(prefix)) return
      void counters().then((o) => stream.write(line(s, api.host.status(s), now(), o)))
    })
    const heartbeat = setInterval(async () => {
      stream.write({ type: 'heartbeat', timestamp: now(), org: await counters() })
    }, WATCH_HEARTBEAT_MS)
    heartbeat.unref()
    ctx.res.once('close', () => {
      clearInterval(heartbeat)
      unsubscribe?.()
      unsubscribeCreated()
      open.delete(stream)
    })
    async function onChange(o: OrgRecord, spriteID: string, status: SpriteStatus) {
      const sprite = await api.store.getSpriteByID(spriteID)
      if (!sprite || sprite.orgID !== o.id || !sprite.name.startsWith(prefix)) return
      stream.write(line(sprite, status, now(), await counters()))
    }
  }
}

function line(s: SpriteRecord, status: SpriteStatus, timestamp: string, org: OrgCountersWire) {
  return {
    name: s.name,
    status,
    running_version: s.version,
    last_running_at: s.lastRunningAt?.toISOString() ?? undefined,
    last_warming_at: s.lastWarmingAt?.toISOString() ?? undefined,
    timestamp,
    org,
  }
}
