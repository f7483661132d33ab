// spritesd: reads config, wires the real dependencies and handles signals. Subcommands:
//   serve (default)  start the API server
//   setup            prepare the storage pool and the base image, then exit
//   image build      (re)build the base image with progress
//   doctor           check the host and print the fix for anything missing

import { createCrunDriver, createNetnsNetworkDriver } from '@sprites/runtime'
import { createReflinkVolumeDriver } from '@sprites/storage'
import { openSQLiteStore } from '@sprites/store'
import { pino } from 'pino'
import { createSpritesServer } from './app.ts'
import { bootstrap } from './bootstrap.ts'
import { loadConfig, type ServerConfig } from './config.ts'
import { execModule } from './exec/exec-routes.ts'
import { ExecService } from './exec/exec-service.ts'
import { formatChecks, runDoctor } from './host/doctor.ts'
import { reconcile } from './host/reconcile.ts'
import { RuntimeSpriteHost } from './host/runtime-sprite-host.ts'
import { prepareSpriteBin } from './host/sprite-bin.ts'
import type { SpriteHost } from './services/sprite-host.ts'

const COMMANDS = ['serve', 'setup', 'doctor', 'image']

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve'
  const rest = command === argv[0] ? argv.slice(1) : argv
  if (!COMMANDS.includes(command)) {
    console.error(`spritesd: unknown command ${command} (use ${COMMANDS.join(', ')})`)
    return 2
  }
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

async function doctor(config: ServerConfig): Promise<number> {
  const checks = await runDoctor({ dataDir: config.dataDir })
  console.log(formatChecks(checks))
  return checks.some((c) => c.required && !c.ok) ? 1 : 0
}

function logger(config: ServerConfig) {
  return pino({ level: config.logLevel, redact: ['token', '*.token', 'authorization'] })
}

async function setup(config: ServerConfig, rebuild: boolean): Promise<number> {
  const log = logger(config)
  const volumes = createReflinkVolumeDriver({
    dataDir: config.dataDir,
    cacheDir: config.cacheDir,
    log,
  })
  const image = await volumes.ensureBaseImage({
    rebuild,
    onProgress: (message) => console.log(`  ${message}`),
  })
  await prepareSpriteBin(config.runDir)
  console.log(`base image ${image.version} ready at ${image.path}`)
  return 0
}

async function serve(config: ServerConfig): Promise<number> {
  const log = logger(config)
  const volumes = createReflinkVolumeDriver({
    dataDir: config.dataDir,
    cacheDir: config.cacheDir,
    log,
  })
  const image = await volumes.ensureBaseImage({
    onProgress: (message) => log.info({ stage: 'base-image' }, message),
  })
  const spriteBinDir = await prepareSpriteBin(config.runDir)
  const network = createNetnsNetworkDriver({
    mode: config.network.mode,
    routerNetns: config.network.routerNetns,
    netnsPrefix: config.network.netnsPrefix,
    subnet: config.network.subnet,
    log,
  })
  const runtime = createCrunDriver({ runDir: config.runDir, log })
  const store = openSQLiteStore(config.dbPath)
  let exec: ExecService | undefined
  const host = new RuntimeSpriteHost({
    store,
    volumes,
    runtime,
    network,
    spriteBinDir,
    pidsMax: config.pidsMax,
    log,
    onStopped: (spriteID, reason) => exec?.abortAll(spriteID, reason),
  })
  exec = new ExecService({ provider: host })
  const execService = exec
  const spriteHost: SpriteHost = {
    provision: (s) => host.provision(s),
    destroy: async (s) => {
      execService.forget(s.id)
      await host.destroy(s)
    },
    status: (s) => host.status(s),
    imageVersion: () => image.version,
  }
  await reconcile({
    store,
    runtime,
    volumes,
    log,
    destroy: async (id) => {
      const s = await store.getSpriteByID(id)
      if (s) await host.destroy(s).catch((err) => log.error({ err }, 'cleanup failed'))
      await store.deleteSprite(id)
    },
  })
  const server = createSpritesServer({
    config,
    store,
    host: spriteHost,
    log,
    modules: [execModule(execService), (api) => api.onClose(() => host.stopAll())],
  })
  await bootstrap({ store, config, log })
  await server.start()
  log.info({ url: server.url(), image: image.version }, 'spritesd listening')
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
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`spritesd: ${(err as Error).message}`)
    process.exit(1)
  },
)
