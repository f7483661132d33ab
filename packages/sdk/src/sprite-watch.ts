import { type OrgCountersWire, type SpriteStatus, SpritesError } from '@sprites/protocol'
import { request } from './http.ts'
import { readNDJSON } from './ndjson.ts'
import type { ResolvedOptions } from './options.ts'

type Loose = Record<string, unknown>

/** The organization's counters, sent on every line of the list watch (M3). */
export interface OrgCounters {
  name: string
  running: number
  warm: number
  cold: number
  runningLimit: number
  warmLimit: number
}

/** One line of the list watch (M3): a sprite's current status, or a heartbeat. */
export type SpriteWatchEvent =
  | {
      type: 'sprite'
      name: string
      status: SpriteStatus
      runningVersion?: string
      lastRunningAt: Date | null
      lastWarmingAt: Date | null
      timestamp: Date | null
      org: OrgCounters
    }
  | { type: 'heartbeat'; timestamp: Date | null; org: OrgCounters }

/** Options of `watchSprites`. */
export interface WatchSpritesOptions {
  /** Only sprites whose name starts with this. */
  prefix?: string
  /** Ends the watch: the generator returns and the connection is closed. */
  signal?: AbortSignal
}

function date(v: unknown): Date | null {
  if (typeof v !== 'string' || v === '') return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d
}

function countersFromWire(raw: unknown): OrgCounters {
  const w = (raw ?? {}) as Partial<OrgCountersWire>
  return {
    name: String(w.name ?? ''),
    running: Number(w.running ?? 0),
    warm: Number(w.warm ?? 0),
    cold: Number(w.cold ?? 0),
    runningLimit: Number(w.running_limit ?? 0),
    warmLimit: Number(w.warm_limit ?? 0),
  }
}

/** One M3 NDJSON line → SpriteWatchEvent (a line without `type` describes a sprite). */
export function spriteWatchEventFromWire(w: Loose): SpriteWatchEvent {
  const org = countersFromWire(w.org)
  const timestamp = date(w.timestamp)
  if (w.type === 'heartbeat') return { type: 'heartbeat', timestamp, org }
  const status = w.status === 'running' || w.status === 'warm' ? w.status : 'cold'
  const event: SpriteWatchEvent = {
    type: 'sprite',
    name: String(w.name ?? ''),
    status,
    lastRunningAt: date(w.last_running_at),
    lastWarmingAt: date(w.last_warming_at),
    timestamp,
    org,
  }
  if (typeof w.running_version === 'string') event.runningVersion = w.running_version
  return event
}

/**
 * M3: the matching sprites, then every status change and heartbeat, until `signal` aborts (the
 * generator then returns) or the server ends the stream.
 * @throws SpritesError `unauthorized`, or `internal` when the connection breaks
 */
export async function* watchSprites(
  o: ResolvedOptions,
  opts: WatchSpritesOptions = {},
): AsyncGenerator<SpriteWatchEvent> {
  const { signal } = opts
  if (signal?.aborted) return
  const res = await request(o, 'GET', ['sprites'], {
    query: { prefix: opts.prefix || undefined },
    accept: 'application/x-ndjson',
    timeoutMs: null,
  })
  // Aborting the pipe cancels the response body, which closes the connection.
  const body = signal ? res.body?.pipeThrough(new TransformStream(), { signal }) : res.body
  try {
    for await (const line of readNDJSON(body ?? null)) yield spriteWatchEventFromWire(line)
  } catch (err) {
    if (signal?.aborted) return
    const why = (err as Error)?.message ?? String(err)
    throw new SpritesError('internal', `the sprite list watch broke off (${why})`, { cause: err })
  }
}
