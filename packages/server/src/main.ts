// spritesd: reads config, wires the real dependencies and handles signals. Subcommands:
//   serve (default)  start the API server
//   setup            prepare the storage pool and the base image, then exit
//   image build      (re)build the base image with progress
//   doctor           check the host and print the fix for anything missing
//   org …, token …   operator commands on the store (admin/admin-cli.ts)

import type { Duplex } from 'node:stream'
import type { SpriteStatus } from '@sprites/protocol'
import {
  createCrunDriver,
  createNetnsNetworkDriver,
  type Sandbox,
  type SandboxPeer,
} from '@sprites/runtime'
import { createReflinkVolumeDriver, DEFAULT_RECIPE, recipeFiles } from '@sprites/storage'
import type { SpriteRecord } from '@sprites/store'
import { pino } from 'pino'
import { ADMIN_COMMANDS, runAdmin, splitAdminArgs } from './admin/admin-cli.ts'
import { tokenIssueModule } from './admin/token-routes.ts'
import { createSpritesServer } from './app.ts'
import { bootstrap } from './bootstrap.ts'
import { createCheckpointBrowser } from './checkpoints/checkpoint-browse.ts'
import { installInSpriteCheckpointRoutes } from './checkpoints/checkpoint-insprite.ts'
import { checkpointsModule } from './checkpoints/checkpoint-routes.ts'
import { createCheckpointService } from './checkpoints/checkpoint-service.ts'
import { loadConfig, type ServerConfig } from './config.ts'
import { execModule } from './exec/exec-routes.ts'
import { ExecService } from './exec/exec-service.ts'
import { fsModule } from './fs/fs-routes.ts'
import { formatChecks, runDoctor } from './host/doctor.ts'
import { killPointHook } from './host/kill-point.ts'
import { reconcile } from './host/reconcile.ts'
import { RuntimeSpriteHost, sandboxID, UID_COUNT } from './host/runtime-sprite-host.ts'
import { prepareSpriteBin } from './host/sprite-bin.ts'
import { createSystemFiles } from './host/system-files.ts'
import { startTLSListener, type TLSListener } from './http/tls-listener.ts'
import { createInSpriteAPI } from './insprite/index.ts'
import { ActivityTracker } from './lifecycle/activity.ts'
import { LifecycleManager } from './lifecycle/lifecycle-manager.ts'
import { requestActivity } from './lifecycle/request-activity.ts'
import { apiHostNames, NetworkEgressEnforcer } from './policy/egress-enforcer.ts'
import { createPolicyFiles } from './policy/policy-files.ts'
import { policyModule } from './policy/policy-routes.ts'
import { createPortEvents } from './ports/ports-module.ts'
import { proxyModule } from './proxy/proxy-module.ts'
import type { SpriteHost } from './services/sprite-host.ts'
import { lifecycleTimings } from './services/sprite-lifecycle.ts'
import {
  claimInstance,
  describeStore,
  lockDirectories,
  openConfiguredStore,
  storeExists,
} from './store-open.ts'
import { createServiceLogDirs } from './supervisor/service-log-dirs.ts'
import { installInSpriteServiceRoutes, serviceModule } from './supervisor/service-routes.ts'
import { Supervisor } from './supervisor/supervisor.ts'
import { installTaskRoutes } from './tasks/task-routes.ts'
import { TaskService } from './tasks/task-service.ts'

const COMMANDS = ['serve', 'setup', 'doctor', 'image', ...ADMIN_COMMANDS]

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve'
  const rest = command === argv[0] ? argv.slice(1) : argv
  if (!COMMANDS.includes(command)) {
    console.error(`spritesd: unknown command ${command} (use ${COMMANDS.join(', ')})`)
    return 2
  }
  if (command === 'org' || command === 'token') return admin(command, rest)
  const flags = command === 'image' ? rest.filter((a) => a !== 'build' && a !== '--rebuild') : rest
  const config = loadConfig(process.env, flags)
  if (command === 'doctor') return doctor(config)
  const checks = await runDoctor({ dataDir: config.dataDir })
  const failed = checks.filter((c) => c.required && !c.ok)
  if (failed.length > 0) {
    console.error(`spritesd cannot run sprites on this host:\n${formatChecks(failed)}`)
    return 1
  }
  if (command === 'setup') return setup(config, false)
  if (command === 'image')
    return setup(config, rest.includes('--rebuild') || rest.includes('build'))
  return serve(config)
}

/** `spritesd org|token …` on the configured store; the running server sees the change. */
async function admin(noun: string, argv: string[]): Promise<number> {
  const args = splitAdminArgs(argv)
  const config = loadConfig(process.env, args.rest)
  if (!storeExists(config)) {
    console.error(
      `spritesd ${noun}: no store at ${describeStore(config)}; start spritesd once first`,
    )
    return 1
  }
  const store = await openConfiguredStore(config)
  try {
    return await runAdmin(store, noun, args, {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    })
  } finally {
    await store.close()
  }
}

async function doctor(config: ServerConfig): Promise<number> {
  const checks = await runDoctor({ dataDir: config.dataDir })
  console.log(formatChecks(checks))
  return checks.some((c) => c.required && !c.ok) ? 1 : 0
}

function logger(config: ServerConfig) {
  return pino({ level: config.logLevel, redact: ['token', '*.token', 'authorization'] })
}

/** The storage driver as configured; `setup` and `serve` must prepare the same pool. */
function volumesFor(config: ServerConfig, log: ReturnType<typeof logger>) {
  return createReflinkVolumeDriver({
    dataDir: config.dataDir,
    cacheDir: config.cacheDir,
    poolSizeBytes: config.poolSizeGB * 1024 ** 3,
    log,
  })
}

async function setup(config: ServerConfig, rebuild: boolean): Promise<number> {
  const log = logger(config)
  // The files it rebuilds (sprite-bin, the base image) are in use while a server runs.
  const locks = await lockDirectories(config)
  try {
    const volumes = volumesFor(config, log)
    const image = await volumes.ensureBaseImage({
      rebuild,
      onProgress: (message) => console.log(`  ${message}`),
    })
    await prepareSpriteBin(config.runDir)
    console.log(`base image ${image.version} ready at ${image.path}`)
    return 0
  } finally {
    await locks.release()
  }
}

async function serve(config: ServerConfig): Promise<number> {
  const log = logger(config)
  // First of all: this server's directories and store are its alone (a second spritesd on them
  // would take every sprite for its own), so nothing is touched before they are claimed.
  const claimed = await claimInstance(config, log, (err) => {
    // Another spritesd may now take the database: this one must not go on beside it.
    log.error({ err }, 'lost the claim on the store; shutting down')
    process.kill(process.pid, 'SIGTERM')
  })
  const store = claimed.store
  log.info({ store: describeStore(config) }, 'store open')
  const volumes = volumesFor(config, log)
  const image = await volumes.ensureBaseImage({
    onProgress: (message) => log.info({ stage: 'base-image' }, message),
  })
  const spriteBinDir = await prepareSpriteBin(config.runDir)
  const network = createNetnsNetworkDriver({
    mode: config.network.mode,
    routerNetns: config.network.routerNetns,
    netnsPrefix: config.network.netnsPrefix,
    subnet: config.network.subnet,
    dnsUpstreams: config.network.dnsUpstreams,
    log,
  })
  const runtime = createCrunDriver({ runDir: config.runDir, log })
  let exec: ExecService | undefined
  const activity = new ActivityTracker()
  // Read-only views of the newest checkpoints at /.sprite/checkpoints (leftovers unmounted first).
  const browser = createCheckpointBrowser({
    runDir: config.runDir,
    dataDir: config.dataDir,
    uidCount: UID_COUNT,
    recent: (s, n) => checkpoints.recent(s, n),
    log,
  })
  await browser.close()
  // /.sprite/policy/network.json of each running sprite, a read-only bind of a host directory.
  const policyFiles = createPolicyFiles({ runDir: config.runDir, store, log })
  await policyFiles.clear()
  // M7: an upgraded sprite gets the installed image's system files at its next cold boot.
  const systemFiles = createSystemFiles({ files: recipeFiles(DEFAULT_RECIPE), log })
  if (systemFiles.version !== image.version) {
    throw new Error(`base image ${image.version} is not the recipe's ${systemFiles.version}`)
  }
  // Service logs: host files bound read-only at /.sprite/logs, outside the sprite's disk.
  const serviceLogs = createServiceLogDirs({ dataDir: config.dataDir, log })
  // Network egress policies: the sprite's resolver (its gateway) and nftables, from boot on.
  const egress = new NetworkEgressEnforcer({
    network,
    store,
    log,
    extraDefaults: apiHostNames(config.publicURL),
  })
  const host = new RuntimeSpriteHost({
    store,
    volumes,
    runtime,
    network,
    spriteBinDir,
    pidsMax: config.pidsMax,
    log,
    onStopped: (spriteID, reason) => exec?.abortAll(spriteID, reason),
    killPoint: killPointHook(config.testKillPoint),
    checkpointsDir: (s, sandboxID) => browser.prepare(s, sandboxID),
    policyDir: (s) => policyFiles.prepare(s),
    logsDir: (s) => serviceLogs.prepare(s),
    dnsServers: (s) => [network.gateway(s.slot)],
    networkReady: (s) => egress.boot(s),
    beforeReady: (s, rootfs, sandbox) => systemFiles.refresh(s, rootfs, sandbox),
  })
  host.on('stopped', (spriteID: string) => egress.forget(spriteID))
  host.on('stopped', (spriteID: string) => void policyFiles.release(spriteID))
  host.on('booted', (sprite: SpriteRecord) => void browser.changed(sprite))
  host.on('stopped', (spriteID: string) => void browser.release(spriteID))
  exec = new ExecService({ provider: host, activity })
  // Session timers stand still while a sprite is frozen.
  host.on('warm', (spriteID: string) => exec?.pauseTimers(spriteID))
  host.on('thawed', (spriteID: string) => exec?.resumeTimers(spriteID))
  const ports = createPortEvents({ host })
  // The in-sprite API on every sandbox's /.sprite/api.sock; modules add routes with insprite.route.
  const insprite = createInSpriteAPI({ log, store, config })
  host.on('booted', (sprite: { id: string }, sandbox: Sandbox) => {
    sandbox.on('connection', (socket: Duplex, peer: SandboxPeer) =>
      insprite.serve(sprite, socket, peer),
    )
  })
  insprite.onRequest((spriteID) => activity.touch(spriteID))
  const tasks = new TaskService({ activity })
  installTaskRoutes(insprite, tasks)
  host.on('stopped', (spriteID: string) => tasks.clear(spriteID))
  const lifecycle = new LifecycleManager({
    host,
    store,
    activity,
    settings: config.lifecycle,
    log,
    timingsOf: lifecycleTimings,
  })
  const execService = exec
  const checkpoints = createCheckpointService({
    store,
    volumes,
    log,
    onChanged: (s) => void browser.changed(s),
    host: {
      stop: (s, reason) => host.stop(s, reason),
      status: (s) => host.status(s),
      wake: (s) => host.ensureRunning(s),
    },
  })
  const spriteHost: SpriteHost = {
    provision: (s) => host.provision(s),
    fork: (source, checkpointID, target) => checkpoints.fork(source, checkpointID, target),
    destroy: async (s) => {
      execService.forget(s.id)
      await host.destroy(s)
      await policyFiles.release(s.id)
      await serviceLogs.remove(s.id)
    },
    status: (s) => host.status(s),
    imageVersion: () => image.version,
    // M8: as if the sprite went cold, then boot; answers once it runs again.
    restart: async (s) => {
      await host.stop(s, 'sprite restarted')
      await host.ensureRunning(s)
      return { machineID: sandboxID(s) }
    },
    subscribe: (listener) => {
      const onStatus = (spriteID: string, status: SpriteStatus, at: Date) =>
        listener({ spriteID, status, at })
      host.on('status', onStatus)
      return () => host.off('status', onStatus)
    },
  }
  await reconcile({
    store,
    runtime,
    volumes,
    network,
    orphans: {
      dataDir: config.dataDir,
      runDir: config.runDir,
      netnsPrefix: config.network.netnsPrefix,
    },
    log,
    destroy: async (id) => {
      const s = await store.getSpriteByID(id)
      if (s) await host.destroy(s).catch((err) => log.error({ err }, 'cleanup failed'))
      await store.deleteSprite(id)
    },
  })
  await serviceLogs.prune(async (id) => (await store.getSpriteByID(id)) !== null)
  const supervisor = new Supervisor({ host, log, logDir: serviceLogs.servicesDir })
  let tls: TLSListener | undefined
  installInSpriteServiceRoutes(insprite, supervisor)
  installInSpriteCheckpointRoutes(insprite, checkpoints, log)
  const server = createSpritesServer({
    config,
    store,
    host: spriteHost,
    log,
    modules: [
      execModule(execService, ports.follow),
      ports.module,
      checkpointsModule(checkpoints),
      fsModule({ provider: host, activity, states: host }),
      serviceModule(supervisor),
      policyModule({ files: policyFiles, egress }),
      tokenIssueModule(config.adminSecret),
      proxyModule({ host, supervisor, hold: (id) => activity.hold(id) }),
      (api) => api.onClose(() => lifecycle.close()),
      (api) => api.onClose(() => host.stopAll().then(() => browser.close())),
      (api) => api.onClose(() => insprite.close()),
      (api) => api.onClose(() => tls?.close()),
      (api) => api.onClose(() => network.close()),
    ],
    onRequest: requestActivity(store, activity),
  })
  await bootstrap({ store, config, log })
  await server.start()
  // With a certificate, the same handlers also answer over TLS on their own port.
  tls = config.tls ? await startTLSListener(server.httpServer, config.tls) : undefined
  lifecycle.start()
  log.info({ url: server.url(), tls: tls?.url(), image: image.version }, 'spritesd listening')
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down')
      server.close().then(resolve, (err) => {
        log.error({ err }, 'shutdown failed')
        resolve()
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  // Only once every sprite is stopped and the store closed may another spritesd take over.
  await claimed.release()
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`spritesd: ${(err as Error).message}`)
    process.exit(1)
  },
)
