import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_SPRITE_VERSION, SpritesError } from '@sprites/protocol'
import { OPTIONS, type OptionSpec, type RawConfig } from './config-options.ts'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const NETWORK_MODES = ['router', 'host'] as const
export type NetworkMode = (typeof NETWORK_MODES)[number]

/**
 * Server settings, resolved once by {@link loadConfig} and deep-frozen. Each field names its flag,
 * its environment variable and its default.
 */
export interface ServerConfig {
  /** `--listen HOST:PORT`, `SPRITES_LISTEN`. @default 127.0.0.1:7470 */
  readonly listen: { readonly host: string; readonly port: number }
  /** `--data-dir`, `SPRITES_DATA_DIR`. @default /var/lib/sprites */
  readonly dataDir: string
  /** `--run-dir`, `SPRITES_RUN_DIR`. @default /run/sprites */
  readonly runDir: string
  /** `--cache-dir`, `SPRITES_CACHE_DIR`. @default /var/cache/sprites */
  readonly cacheDir: string
  /** `--db-path`, `SPRITES_DB_PATH`. @default <dataDir>/sprites.db */
  readonly dbPath: string
  /**
   * `--database-url`, `SPRITES_DATABASE_URL`, file key `databaseURL`: a `postgres://` or
   * `postgresql://` URL; the store is then that PostgreSQL database and `dbPath` is unused. It may
   * hold a password: never log it (store-open.ts redacts it). @default null (SQLite at dbPath)
   */
  readonly databaseURL: string | null
  /** `--base-domain`, `SPRITES_BASE_DOMAIN`: sprite URLs are `<name>-<org id>.<baseDomain>`. @default sprites.localhost */
  readonly baseDomain: string
  /** `--public-url`, `SPRITES_PUBLIC_URL`: the API base URL clients use. @default http://<listen> */
  readonly publicURL: string
  /** Scheme and port of sprite URLs. @default https without a port; http and the listen port for *.localhost */
  readonly spriteURL: { readonly scheme: 'http' | 'https'; readonly port: number | null }
  /** `--sprite-version`, `SPRITES_SPRITE_VERSION`: the `Sprite-Version` header. @default 0.0.1-rc46 */
  readonly spriteVersionHeader: string
  /** `--region`, `SPRITES_REGION`. @default local */
  readonly region: string
  /** Sprite config used when a create request omits it. @default cpus 2, ramMB 2048, storageGB 10 */
  readonly spriteDefaults: {
    readonly cpus: number
    readonly ramMB: number
    readonly storageGB: number
  }
  /** `--max-body-bytes`, `SPRITES_MAX_BODY_BYTES`: cap on JSON request bodies. @default 1 MiB */
  readonly maxBodyBytes: number
  /** `--log-level`, `SPRITES_LOG_LEVEL`. @default info */
  readonly logLevel: LogLevel
  /** `--cli-config-path`, `SPRITES_CLI_CONFIG_PATH`. @default ~/.sprites/sprites.json of the invoking (sudo) user */
  readonly cliConfigPath: string
  /** Owner given to the CLI config when the server runs under sudo; null otherwise. */
  readonly cliConfigOwner: { readonly uid: number; readonly gid: number } | null
  /**
   * `--network-mode`, `SPRITES_NETWORK_MODE` (`router`: sprites route through a namespace of
   * ours and the host's own network is never changed; `host`: veths in the root namespace).
   * `--router-netns`, `SPRITES_ROUTER_NETNS`. @default sprites-rt
   * `--subnet`, `SPRITES_SUBNET`: addresses of sprite links. @default 10.201.0.0/16
   * `--dns-upstream`, `SPRITES_DNS_UPSTREAM`: where the sprites' resolver forwards allowed
   * queries (comma-separated IPs). @default the host's non-loopback nameservers
   */
  readonly network: {
    readonly mode: NetworkMode
    readonly routerNetns: string
    /** `--netns-prefix`, `SPRITES_NETNS_PREFIX`: sprite netns are `<prefix><slot>`. @default sprite- */
    readonly netnsPrefix: string
    readonly subnet: string
    readonly dnsUpstreams: readonly string[]
  }
  /** `--pids-max`, `SPRITES_PIDS_MAX`: process limit of each sprite. @default 4096 */
  readonly pidsMax: number
  /** `--running-limit`, `SPRITES_RUNNING_LIMIT`: reported in list counters. @default 10 */
  readonly runningLimit: number
  /** `--warm-limit`, `SPRITES_WARM_LIMIT`: reported in list counters. @default 50 */
  readonly warmLimit: number
  /**
   * Operator limits on creating sprites, per organization (429 beyond them, §1.3).
   * `--max-sprites`, `SPRITES_MAX_SPRITES`: most sprites an org may have. @default null (none)
   * `--creates-per-minute`, `SPRITES_CREATES_PER_MINUTE`: creations an org may make per minute,
   * in bursts of up to that many. @default null (none)
   */
  readonly limits: {
    readonly maxSprites: number | null
    readonly createsPerMinute: number | null
  }
  /** `--shutdown-timeout-ms`, `SPRITES_SHUTDOWN_TIMEOUT_MS`: budget of close hooks. @default 10000 */
  readonly shutdownTimeoutMs: number
  /**
   * Hibernation (docs/lifecycle.md). `--warm-after-ms`, `SPRITES_WARM_AFTER_MS`: idle time before
   * running → warm (@default 30000); `--cold-after-ms`, `SPRITES_COLD_AFTER_MS`: time warm before
   * warm → cold (@default 600000); `--min-mem-available-mb`, `SPRITES_MIN_MEM_AVAILABLE_MB`: below
   * this MemAvailable, warm sprites go cold oldest-idle first (@default 1024; 0 = never);
   * `--lifecycle-tick-ms`, `SPRITES_LIFECYCLE_TICK_MS`: how often idleness is checked (@default 1000).
   */
  readonly lifecycle: {
    readonly warmAfterMs: number
    readonly coldAfterMs: number
    readonly minMemAvailableMB: number
    readonly tickMs: number
  }
  /** `--pool-size-gb`, `SPRITES_POOL_SIZE_GB`: size of a new pool file. @default 200 */
  readonly poolSizeGB: number
  /** `--test-kill-point`, `SPRITES_TEST_KILL_POINT`: tests only; spritesd SIGKILLs itself there. */
  readonly testKillPoint: string | null
  /**
   * HTTPS (docs/configuration.md): `--tls-cert`, `SPRITES_TLS_CERT` and `--tls-key`,
   * `SPRITES_TLS_KEY` (PEM files, both or neither); `--tls-listen HOST:PORT`, `SPRITES_TLS_LISTEN`:
   * a second listener serving the same API and sprite URLs over TLS (@default <listen host>:7443).
   * With TLS, sprite URLs are https (on the TLS port for *.localhost). null without a certificate.
   */
  readonly tls: {
    readonly certFile: string
    readonly keyFile: string
    readonly listen: { readonly host: string; readonly port: number }
  } | null
  /**
   * `--admin-secret`, `SPRITES_ADMIN_SECRET`, file key `adminSecret`: the operator secret that
   * `POST /v1/organizations/{org}/tokens` (M11) takes as `Authorization: FlyV1 <secret>`. null
   * (the default) turns that route off.
   */
  readonly adminSecret: string | null
  /** `--config`, `SPRITES_CONFIG`: the JSON file that was read, if any. */
  readonly configFile: string | null
}

export const DEFAULT_PORT = 7470
export const DEFAULT_TLS_PORT = 7443

/**
 * Resolves the server config from flags > `SPRITES_*` environment > JSON config file > defaults.
 * This is the only module that reads the environment.
 * @throws SpritesError invalid_argument listing every problem found.
 * @example const config = loadConfig(process.env, process.argv.slice(2))
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): ServerConfig {
  const problems: string[] = []
  const flags = parseFlags(argv, problems)
  const configFile = flags.config ?? env.SPRITES_CONFIG ?? null
  const file = configFile ? readConfigFile(configFile, problems) : {}
  const raw: RawConfig = {}
  for (const spec of OPTIONS) resolveOption(spec, { flags, env, file }, raw, problems)
  const config = buildConfig(raw, env, configFile)
  validate(config, raw, problems)
  if (problems.length > 0) {
    throw new SpritesError(
      'invalid_argument',
      `invalid server configuration:\n- ${problems.join('\n- ')}`,
      {
        details: { problems },
      },
    )
  }
  return deepFreeze(config)
}

function parseFlags(
  argv: readonly string[],
  problems: string[],
): Record<string, string | undefined> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } }
  for (const spec of OPTIONS) options[spec.flag] = { type: 'string' }
  try {
    const { values } = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: false,
    })
    return values as Record<string, string | undefined>
  } catch (err) {
    problems.push(
      `${(err as Error).message} (known flags: --config, ${OPTIONS.map((o) => `--${o.flag}`).join(', ')})`,
    )
    return {}
  }
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
    problems.push(`config file ${path} must hold a JSON object`)
  } catch (err) {
    problems.push(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  return {}
}

interface Sources {
  flags: Record<string, string | undefined>
  env: Record<string, string | undefined>
  file: Record<string, unknown>
}

function resolveOption(spec: OptionSpec, src: Sources, raw: RawConfig, problems: string[]): void {
  const fromFile = spec.file.reduce<unknown>(
    (v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    src.file,
  )
  const layers: [unknown, string][] = [
    [src.flags[spec.flag], `--${spec.flag}`],
    [src.env[spec.env], spec.env],
    [fromFile, `config file key "${spec.file.join('.')}"`],
  ]
  const hit = layers.find(([v]) => v !== undefined && v !== '')
  if (!hit) return
  const parsed = spec.parse(hit[0])
  if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
    problems.push(`${hit[1]}: ${parsed.problem}`)
  } else {
    raw[spec.key] = parsed as never
  }
}

function buildConfig(
  raw: RawConfig,
  env: Record<string, string | undefined>,
  configFile: string | null,
) {
  const listen = raw.listen ?? { host: '127.0.0.1', port: DEFAULT_PORT }
  const dataDir = raw.dataDir ?? '/var/lib/sprites'
  const baseDomain = (raw.baseDomain ?? 'sprites.localhost').toLowerCase()
  const local = baseDomain === 'localhost' || baseDomain.endsWith('.localhost')
  const user = invokingUser(env)
  const tls =
    raw.tlsCert && raw.tlsKey
      ? {
          certFile: raw.tlsCert,
          keyFile: raw.tlsKey,
          listen: raw.tlsListen ?? { host: listen.host, port: DEFAULT_TLS_PORT },
        }
      : null
  const urlPort = tls ? tls.listen.port : listen.port
  return {
    listen,
    dataDir,
    runDir: raw.runDir ?? '/run/sprites',
    cacheDir: raw.cacheDir ?? '/var/cache/sprites',
    dbPath: raw.dbPath ?? join(dataDir, 'sprites.db'),
    databaseURL: raw.databaseURL ?? null,
    baseDomain,
    publicURL: (raw.publicURL ?? `http://${urlHost(listen.host)}:${listen.port}`).replace(
      /\/+$/,
      '',
    ),
    spriteURL: {
      scheme: raw.spriteURLScheme ?? (local && !tls ? 'http' : 'https'),
      port: raw.spriteURLPort ?? (local && urlPort !== 0 ? urlPort : null),
    },
    spriteVersionHeader: raw.spriteVersionHeader ?? DEFAULT_SPRITE_VERSION,
    region: raw.region ?? 'local',
    spriteDefaults: {
      cpus: raw.defaultCpus ?? 2,
      ramMB: raw.defaultRamMB ?? 2048,
      storageGB: raw.defaultStorageGB ?? 10,
    },
    maxBodyBytes: raw.maxBodyBytes ?? 1024 * 1024,
    logLevel: raw.logLevel ?? 'info',
    cliConfigPath: raw.cliConfigPath ?? join(user.home, '.sprites', 'sprites.json'),
    cliConfigOwner: user.owner,
    network: {
      mode: raw.networkMode ?? 'router',
      routerNetns: raw.routerNetns ?? 'sprites-rt',
      netnsPrefix: raw.netnsPrefix ?? 'sprite-',
      subnet: raw.subnet ?? '10.201.0.0/16',
      dnsUpstreams: raw.dnsUpstream ?? hostNameservers(),
    },
    pidsMax: raw.pidsMax ?? 4096,
    runningLimit: raw.runningLimit ?? 10,
    warmLimit: raw.warmLimit ?? 50,
    limits: {
      maxSprites: raw.maxSprites ?? null,
      createsPerMinute: raw.createsPerMinute ?? null,
    },
    shutdownTimeoutMs: raw.shutdownTimeoutMs ?? 10_000,
    lifecycle: {
      warmAfterMs: raw.warmAfterMs ?? 30_000,
      coldAfterMs: raw.coldAfterMs ?? 600_000,
      minMemAvailableMB: raw.minMemAvailableMB ?? 1024,
      tickMs: raw.lifecycleTickMs ?? Math.min(1000, raw.warmAfterMs ?? 1000),
    },
    poolSizeGB: raw.poolSizeGB ?? 200,
    testKillPoint: raw.testKillPoint ?? null,
    tls,
    adminSecret: raw.adminSecret ?? null,
    configFile,
  } satisfies ServerConfig
}

/** A wildcard listen address is reached through loopback; IPv6 literals get brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

/** The user who ran the server: under sudo, `SUDO_USER` (home from /etc/passwd), else `HOME`. */
function invokingUser(env: Record<string, string | undefined>) {
  const name = env.SUDO_USER
  const uid = Number(env.SUDO_UID)
  const gid = Number(env.SUDO_GID)
  if (name && name !== 'root' && Number.isInteger(uid) && Number.isInteger(gid)) {
    return { home: passwdHome(name) ?? `/home/${name}`, owner: { uid, gid } }
  }
  return { home: env.HOME || homedir(), owner: null }
}

/**
 * The host's nameservers that sprites can use: those of /etc/resolv.conf except loopback ones
 * (a local stub such as systemd-resolved is not reachable from the router); with only loopback
 * there, those of systemd-resolved's upstream file.
 */
function hostNameservers(): string[] {
  for (const file of ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
    const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)]
      .map((m) => (m[1] ?? '').replace(/%.*$/, ''))
      .filter((a) => isIP(a) !== 0 && !/^127\.|^::1$/.test(a))
    if (servers.length > 0) return servers
  }
  return []
}

function passwdHome(user: string): string | null {
  if (!existsSync('/etc/passwd')) return null
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))
  return line?.split(':')[5] || null
}

function validate(c: ServerConfig, raw: RawConfig, problems: string[]): void {
  if (Boolean(raw.tlsCert) !== Boolean(raw.tlsKey)) {
    problems.push('TLS needs both --tls-cert and --tls-key (SPRITES_TLS_CERT, SPRITES_TLS_KEY)')
  }
  for (const [name, path] of Object.entries({
    dataDir: c.dataDir,
    runDir: c.runDir,
    cacheDir: c.cacheDir,
    dbPath: c.dbPath,
    cliConfigPath: c.cliConfigPath,
  })) {
    if (!isAbsolute(path))
      problems.push(`${name} must be an absolute path, got ${JSON.stringify(path)}`)
  }
  if (
    !/^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(
      c.baseDomain,
    )
  ) {
    problems.push(
      `baseDomain must be a DNS name like sprites.example.com, got ${JSON.stringify(c.baseDomain)}`,
    )
  }
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(c.publicURL)) {
    problems.push(
      `publicURL must be an http(s) URL without query, got ${JSON.stringify(c.publicURL)}`,
    )
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
