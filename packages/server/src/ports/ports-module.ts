import type { FollowSessionPorts } from '../exec/exec-routes.ts'
import type { ServerModule } from '../module-api.ts'
import { PortHub, type PortHubOptions } from './port-hub.ts'
import { portsWatchModule } from './ports-watch-routes.ts'
import { followSessionPorts } from './session-ports.ts'

/** Port events: the follower exec sockets use (§3.6) and the `ports/watch` module (§9.2). */
export interface PortEvents {
  follow: FollowSessionPorts
  module: ServerModule
}

/**
 * Wires one {@link PortHub} on the runtime host's `booted` / `stopped` events.
 * @example const ports = createPortEvents({ host }); execModule(exec, ports.follow); ports.module
 */
export function createPortEvents(o: PortHubOptions): PortEvents {
  const hub = new PortHub(o)
  return {
    follow: (spriteID, leader, send) => followSessionPorts(hub, spriteID, leader, send),
    module: (api) => {
      portsWatchModule(hub)(api)
      api.onClose(() => hub.close())
    },
  }
}
