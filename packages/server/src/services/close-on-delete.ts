import type { WebSocket } from 'ws'
import type { SpriteService } from './sprite-service.ts'

/**
 * M6 for a socket that no sprite stop ends by itself (a watch): closes `ws` with 1001
 * `sprite deleted` when the sprite is deleted. Returns the unsubscribe, for when `ws` ends first.
 */
export function closeOnDelete(
  sprites: Pick<SpriteService, 'onDeleted'>,
  spriteID: string,
  ws: WebSocket,
): () => void {
  return sprites.onDeleted((s) => {
    if (s.id === spriteID && ws.readyState === ws.OPEN) ws.close(1001, 'sprite deleted')
  })
}
