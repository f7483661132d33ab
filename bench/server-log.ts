import { percentile } from './stats.ts'

/** Fields of spritesd's JSON log lines (pino) that carry a duration. */
const TIMED_EVENTS = [
  { msg: 'createDisk done', field: 'durationMs', label: 'createDisk' },
  { msg: 'sprite started', field: 'ms', label: 'boot (attach + netns + sandbox)' },
] as const

/**
 * spritesd's own timings for the disk clone and the boot, from its log: a cross-check of where
 * the cold-start time goes. Lines that are not JSON, or events that are missing, are skipped.
 */
export function serverTimingNotes(log: string): string[] {
  const values = new Map<string, number[]>()
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      continue
    }
    for (const ev of TIMED_EVENTS) {
      const v = entry[ev.field]
      if (entry.msg === ev.msg && typeof v === 'number') {
        values.set(ev.label, [...(values.get(ev.label) ?? []), v])
      }
    }
  }
  return [...values].map(
    ([label, v]) =>
      `spritesd log, ${label}: p50 ${percentile(v, 50).toFixed(0)} ms, p90 ${percentile(v, 90).toFixed(0)} ms (${v.length} sprites)`,
  )
}
