import { SpritesError, type SpriteWatchEvent } from '@sprites/sdk'
import type { Context } from '../../context.ts'
import { onInterrupt } from '../../interrupt.ts'

/** The printed line of one watch event: `name<TAB>status`, or JSON; heartbeats print nothing. */
export function watchLine(e: SpriteWatchEvent, json: boolean): string | null {
  if (e.type !== 'sprite') return null
  if (json) return JSON.stringify({ name: e.name, status: e.status, timestamp: e.timestamp })
  return `${e.name}\t${e.status}`
}

/**
 * `sprite list --watch` (M3): prints every matching sprite, then each status change, until
 * Ctrl+C (exit 0).
 * @throws SpritesError when the server ends or breaks the stream
 */
export async function watchList(ctx: Context, prefix: string | undefined, json: boolean) {
  const interrupt = onInterrupt()
  try {
    const events = ctx.client().watchSprites({ prefix, signal: interrupt.signal })
    for await (const e of events) {
      const line = watchLine(e, json)
      if (line !== null) ctx.out(line)
    }
  } finally {
    interrupt.dispose()
  }
  if (interrupt.signal.aborted) return 0
  throw new SpritesError('internal', 'the server ended the sprite list watch')
}
