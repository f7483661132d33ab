import { type Query, request, requestJSON } from './http.ts'
import { readNDJSON } from './ndjson.ts'
import type { ResolvedOptions } from './options.ts'
import type { Checkpoint, CheckpointEvent, ListCheckpointsOptions } from './types.ts'

type Loose = Record<string, unknown>

/** §6 checkpoint object (+ X2 space) → Checkpoint. */
export function checkpointFromWire(raw: unknown): Checkpoint {
  const w = (raw ?? {}) as Loose
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    id: String(w.id ?? ''),
    createTime: new Date(String(w.create_time ?? 0)),
    comment: str(w.comment),
    sourceID: str(w.source_id),
    history: Array.isArray(w.history) ? w.history.map(String) : [],
    isAuto: w.is_auto === true,
    health: str(w.health) ?? '',
    exclusiveBytes: typeof w.exclusive_bytes === 'number' ? w.exclusive_bytes : undefined,
    sharedBytes: typeof w.shared_bytes === 'number' ? w.shared_bytes : undefined,
  }
}

/** One NDJSON line of C1/C4 → CheckpointEvent. */
export function checkpointEventFromWire(w: Loose): CheckpointEvent {
  const type = w.type === 'complete' || w.type === 'error' ? w.type : 'info'
  const message = String(type === 'error' ? (w.error ?? w.data ?? '') : (w.data ?? ''))
  return typeof w.id === 'string' ? { type, message, id: w.id } : { type, message }
}

/** Checkpoint calls of the client (C1-C5), on its resolved options. */
export const checkpointCalls = {
  async *create(o: ResolvedOptions, name: string, comment?: string) {
    const res = await request(o, 'POST', ['sprites', name, 'checkpoint'], {
      json: comment ? { comment } : {},
      accept: 'application/x-ndjson',
      timeoutMs: null,
    })
    for await (const line of readNDJSON(res.body)) yield checkpointEventFromWire(line)
  },
  async list(o: ResolvedOptions, name: string, opts: ListCheckpointsOptions = {}) {
    const query: Query = {
      history: opts.history || undefined,
      includeAuto: opts.includeAuto ? 'true' : undefined,
    }
    const res = await requestJSON(o, 'GET', ['sprites', name, 'checkpoints'], { query })
    return (Array.isArray(res) ? res : []).map(checkpointFromWire)
  },
  async get(o: ResolvedOptions, name: string, id: string) {
    return checkpointFromWire(await requestJSON(o, 'GET', ['sprites', name, 'checkpoints', id]))
  },
  async delete(o: ResolvedOptions, name: string, id: string) {
    await request(o, 'DELETE', ['sprites', name, 'checkpoints', id])
  },
  async *restore(o: ResolvedOptions, name: string, id: string) {
    const res = await request(o, 'POST', ['sprites', name, 'checkpoints', id, 'restore'], {
      accept: 'application/x-ndjson',
      timeoutMs: null,
    })
    for await (const line of readNDJSON(res.body)) yield checkpointEventFromWire(line)
  },
}
