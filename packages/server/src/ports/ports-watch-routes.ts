import type { PortEventMessage, PortListMessage } from '@sprites/protocol'
import type { ServerModule } from '../module-api.ts'
import { closeOnDelete } from '../services/close-on-delete.ts'
import type { PortHub } from './port-hub.ts'
import { portMessage } from './session-ports.ts'

/** WebSocket ping interval of a `ports/watch` socket. */
export const PING_MS = 15_000

/**
 * `WS /v1/sprites/{name}/ports/watch` (§9.2): `port_list` on open, then `port_opened` /
 * `port_closed` for every listener in the sprite. Never wakes the sprite and is not activity: a
 * cold sprite gets an empty list, then events once something wakes it. Deleting the sprite,
 * running or cold, closes the socket with 1001 (M6).
 */
export function portsWatchModule(hub: PortHub, pingMs = PING_MS): ServerModule {
  return (api) => {
    api.upgrade('/v1/sprites/:name/ports/watch', async (ctx, socket, head) => {
      const sprite = await api.sprites.get(ctx.org, ctx.params.name ?? '')
      const ws = await api.acceptWebSocket(ctx, socket, head)
      const send = (msg: PortEventMessage | PortListMessage) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
      }
      let live = false
      const sub = hub.subscribe(sprite.id, {
        opened: (p) => live && send(portMessage('port_opened', p)),
        closed: (p) => live && send(portMessage('port_closed', p)),
      })
      const ping = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), pingMs)
      const unsubscribeDeleted = closeOnDelete(api.sprites, sprite.id, ws)
      const end = () => {
        clearInterval(ping)
        sub.unsubscribe()
        unsubscribeDeleted()
      }
      ws.once('close', end)
      ws.on('error', end)
      await sub.ready
      if (ws.readyState !== ws.OPEN) return
      const ports = hub.current(sprite.id).map((p) => portMessage('port_opened', p))
      send({ type: 'port_list', ports })
      live = true
    })
  }
}
