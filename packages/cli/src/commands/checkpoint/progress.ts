import type { CheckpointEvent } from '@sprites/sdk'
import type { Context } from '../../context.ts'

/**
 * Prints create/restore progress lines; returns the `complete` event.
 * @throws Error with the server's message on an `error` event or a stream without `complete`
 */
export async function followProgress(
  ctx: Context,
  events: AsyncIterable<CheckpointEvent>,
): Promise<CheckpointEvent> {
  for await (const ev of events) {
    if (ev.type === 'error') throw new Error(ev.message)
    if (ev.type === 'complete') return ev
    ctx.err(ev.message)
  }
  throw new Error('the server ended the stream without completing')
}

/** Bytes in a short human form (`1.5 MiB`). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`
}
