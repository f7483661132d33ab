// The sprites' DNS resolver process: started by the server (resolver-process.ts) inside the
// router netns (in host mode, the root netns), it answers on port 53 of the gateways it is told
// about and keeps the sprites' nftables sets current through one `nft -i` session. It exits when
// the server's IPC channel closes, so it never outlives the server.
import type { Logger } from '../host/logger.ts'
import { DnsListeners } from './dns-listeners.ts'
import { createUpstream } from './dns-upstream.ts'
import { EgressResolver } from './egress-resolver.ts'
import { createNftSession } from './nft-session.ts'
import type { ResolverConfig, ResolverEvent, ResolverRequest } from './resolver-ipc.ts'

const config = JSON.parse(process.argv[2] ?? '{}') as ResolverConfig
const send = (event: ResolverEvent) => {
  if (process.connected) process.send?.(event)
}

function logger(bindings: object = {}): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (context: object, msg = '') => {
      const err = (context as { err?: unknown }).err
      const plain = err instanceof Error ? { ...context, err: err.message } : context
      send({ type: 'log', level, msg, context: { ...bindings, ...plain } })
    }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => logger({ ...bindings, ...more }),
  }
}

const log = logger()
const nft = createNftSession({ command: config.nftCommand })
const resolver = new EgressResolver({
  table: config.table,
  nft: (batch) => nft.run(batch),
  forward: createUpstream({ servers: config.upstreams }),
  log,
})
const listeners = new DnsListeners((query, source, via) => resolver.answer(query, source, via))

async function handle(req: ResolverRequest): Promise<void> {
  if (req.type === 'sprite') {
    // Without its listener the sprite gets no DNS, but its rules must still be applied.
    await listeners
      .ensure(req.egress.gateway)
      .catch((err: unknown) => log.error({ err, gateway: req.egress.gateway }, 'cannot listen'))
    await resolver.setSprite(req.egress, req.restore)
    return
  }
  await resolver.forget(req.address)
  if (!resolver.gateways().includes(req.gateway)) await listeners.close(req.gateway)
}

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await listeners.closeAll().catch(() => undefined)
  await nft.close().catch(() => undefined)
  process.exit(0)
}

process.on('message', (req: ResolverRequest) => {
  handle(req).then(
    () => send({ type: 'done', id: req.id }),
    (err: unknown) => send({ type: 'done', id: req.id, error: (err as Error).message }),
  )
})
process.on('disconnect', () => void stop())
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
// A failing nft session must not take the resolver down: the session restarts on next use.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'))
// The table exists already (the router loads it first): this only proves that nft -i runs.
nft.run(`add table inet ${config.table}`).then(
  () => send({ type: 'ready' }),
  (err: unknown) => {
    log.error({ err }, 'nft -i does not start')
    process.exit(1)
  },
)
