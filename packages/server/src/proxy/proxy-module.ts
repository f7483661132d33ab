import type { ServerModule } from '../module-api.ts'
import type { Supervisor } from '../supervisor/supervisor.ts'
import { type ConnectorHost, SpriteConnector } from './sprite-connector.ts'
import { tcpProxyModule } from './tcp-proxy-routes.ts'
import { createURLProxy, type HoldActivity } from './url-proxy.ts'

export interface ProxyModuleDeps {
  host: ConnectorHost
  supervisor: Supervisor
  /** Lifecycle activity: open URL and proxy connections keep the sprite running. */
  hold?: HoldActivity
}

/** The per-sprite URL (§10) and the TCP proxy WebSocket (§9.1). */
export function proxyModule(deps: ProxyModuleDeps): ServerModule {
  return (api) => {
    api.hostRoute(
      createURLProxy({
        baseDomain: api.config.baseDomain,
        store: api.store,
        connector: new SpriteConnector(deps.host, deps.supervisor),
        log: api.log.child({ component: 'url-proxy' }),
        hold: deps.hold,
      }),
    )
    tcpProxyModule({ host: deps.host, hold: deps.hold })(api)
  }
}
