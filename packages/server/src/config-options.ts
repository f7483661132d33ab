import { isIP } from 'node:net'
import type { LogLevel, NetworkMode } from './config.ts'
import { KILL_POINTS } from './host/kill-point.ts'

/** Values gathered from flags, environment and config file, before defaults. */
export interface RawConfig {
  listen?: { host: string; port: number }
  dataDir?: string
  runDir?: string
  cacheDir?: string
  dbPath?: string
  databaseURL?: string
  baseDomain?: string
  publicURL?: string
  spriteURLScheme?: 'http' | 'https'
  spriteURLPort?: number
  spriteVersionHeader?: string
  region?: string
  defaultCpus?: number
  defaultRamMB?: number
  defaultStorageGB?: number
  maxBodyBytes?: number
  logLevel?: LogLevel
  cliConfigPath?: string
  networkMode?: NetworkMode
  routerNetns?: string
  netnsPrefix?: string
  subnet?: string
  dnsUpstream?: string[]
  pidsMax?: number
  runningLimit?: number
  warmLimit?: number
  maxSprites?: number
  createsPerMinute?: number
  shutdownTimeoutMs?: number
  warmAfterMs?: number
  coldAfterMs?: number
  minMemAvailableMB?: number
  lifecycleTickMs?: number
  poolSizeGB?: number
  testKillPoint?: string
  tlsCert?: string
  tlsKey?: string
  tlsListen?: { host: string; port: number }
  adminSecret?: string
}

type Parsed = unknown | { problem: string }

/** One setting: its flag (without `--`), environment variable, config-file key path and parser. */
export interface OptionSpec {
  key: keyof RawConfig
  flag: string
  env: string
  file: string[]
  parse: (raw: unknown) => Parsed
}

const str =
  (re: RegExp = /^[^\0\r\n]+$/, rule = 'a non-empty string') =>
  (raw: unknown): Parsed =>
    typeof raw === 'string' && re.test(raw)
      ? raw
      : { problem: `must be ${rule}, got ${JSON.stringify(raw)}` }

const int =
  (min: number, max: number) =>
  (raw: unknown): Parsed => {
    const n =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^\d+$/.test(raw.trim())
          ? Number(raw)
          : Number.NaN
    return Number.isInteger(n) && n >= min && n <= max
      ? n
      : { problem: `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}` }
  }

const oneOf =
  (choices: readonly string[]) =>
  (raw: unknown): Parsed =>
    typeof raw === 'string' && choices.includes(raw)
      ? raw
      : { problem: `must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}` }

/** `HOST:PORT`, `[V6]:PORT`, `:PORT` or `PORT`; in the config file also `{host, port}`. */
export function parseListen(raw: unknown): Parsed {
  if (typeof raw === 'object' && raw !== null) {
    const o = raw as { host?: unknown; port?: unknown }
    return parseListen(`${o.host ?? '127.0.0.1'}:${o.port ?? ''}`)
  }
  const m =
    typeof raw === 'string'
      ? /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(raw.trim())
      : null
  const port = Number(m?.[2])
  if (!m || port > 65535)
    return { problem: `must be HOST:PORT (e.g. 127.0.0.1:7470), got ${JSON.stringify(raw)}` }
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1'
  return { host, port }
}

/** IP addresses, comma-separated (in the config file also an array). */
export function parseAddressList(raw: unknown): Parsed {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw]
  const list = items.map((i) => (typeof i === 'string' ? i.trim() : i))
  const ok = list.length > 0 && list.every((i) => typeof i === 'string' && isIP(i) !== 0)
  return ok
    ? list
    : { problem: `must be IP addresses separated by commas, got ${JSON.stringify(raw)}` }
}

/**
 * A `postgres://` or `postgresql://` URL. The problem names the scheme found at most, never the
 * value: it may hold a password.
 */
export function parseDatabaseURL(raw: unknown): Parsed {
  if (typeof raw === 'string' && /^postgres(?:ql)?:\/\/[^\s\0]*$/i.test(raw)) return raw
  const scheme = typeof raw === 'string' ? /^([a-z][a-z0-9+.-]{0,20}):/i.exec(raw)?.[1] : undefined
  const got = scheme ? `, got a ${scheme}: URL` : ''
  return {
    problem: `must be a postgres:// or postgresql:// URL (e.g. postgres://sprites@db.example.com/sprites)${got}`,
  }
}

const ABS = [/^\/[^\0]*$/, 'an absolute path'] as const
const MAX_INT = 2 ** 31 - 1

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'listen', flag: 'listen', env: 'SPRITES_LISTEN', file: ['listen'], parse: parseListen },
  {
    key: 'dataDir',
    flag: 'data-dir',
    env: 'SPRITES_DATA_DIR',
    file: ['dataDir'],
    parse: str(...ABS),
  },
  { key: 'runDir', flag: 'run-dir', env: 'SPRITES_RUN_DIR', file: ['runDir'], parse: str(...ABS) },
  {
    key: 'cacheDir',
    flag: 'cache-dir',
    env: 'SPRITES_CACHE_DIR',
    file: ['cacheDir'],
    parse: str(...ABS),
  },
  { key: 'dbPath', flag: 'db-path', env: 'SPRITES_DB_PATH', file: ['dbPath'], parse: str(...ABS) },
  {
    key: 'databaseURL',
    flag: 'database-url',
    env: 'SPRITES_DATABASE_URL',
    file: ['databaseURL'],
    parse: parseDatabaseURL,
  },
  {
    key: 'baseDomain',
    flag: 'base-domain',
    env: 'SPRITES_BASE_DOMAIN',
    file: ['baseDomain'],
    parse: str(),
  },
  {
    key: 'publicURL',
    flag: 'public-url',
    env: 'SPRITES_PUBLIC_URL',
    file: ['publicURL'],
    parse: str(),
  },
  {
    key: 'spriteURLScheme',
    flag: 'sprite-url-scheme',
    env: 'SPRITES_SPRITE_URL_SCHEME',
    file: ['spriteURL', 'scheme'],
    parse: oneOf(['http', 'https']),
  },
  {
    key: 'spriteURLPort',
    flag: 'sprite-url-port',
    env: 'SPRITES_SPRITE_URL_PORT',
    file: ['spriteURL', 'port'],
    parse: int(1, 65535),
  },
  {
    key: 'spriteVersionHeader',
    flag: 'sprite-version',
    env: 'SPRITES_SPRITE_VERSION',
    file: ['spriteVersionHeader'],
    parse: str(/^[\x21-\x7e]{1,64}$/, '1-64 visible ASCII characters'),
  },
  {
    key: 'region',
    flag: 'region',
    env: 'SPRITES_REGION',
    file: ['region'],
    parse: str(/^[a-z0-9-]{1,32}$/, '1-32 of [a-z0-9-]'),
  },
  {
    key: 'defaultCpus',
    flag: 'default-cpus',
    env: 'SPRITES_DEFAULT_CPUS',
    file: ['spriteDefaults', 'cpus'],
    parse: int(1, 256),
  },
  {
    key: 'defaultRamMB',
    flag: 'default-ram-mb',
    env: 'SPRITES_DEFAULT_RAM_MB',
    file: ['spriteDefaults', 'ramMB'],
    parse: int(64, 1 << 20),
  },
  {
    key: 'defaultStorageGB',
    flag: 'default-storage-gb',
    env: 'SPRITES_DEFAULT_STORAGE_GB',
    file: ['spriteDefaults', 'storageGB'],
    parse: int(1, 65536),
  },
  {
    key: 'maxBodyBytes',
    flag: 'max-body-bytes',
    env: 'SPRITES_MAX_BODY_BYTES',
    file: ['maxBodyBytes'],
    parse: int(1, 64 << 20),
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'SPRITES_LOG_LEVEL',
    file: ['logLevel'],
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  },
  {
    key: 'cliConfigPath',
    flag: 'cli-config-path',
    env: 'SPRITES_CLI_CONFIG_PATH',
    file: ['cliConfigPath'],
    parse: str(...ABS),
  },
  {
    key: 'networkMode',
    flag: 'network-mode',
    env: 'SPRITES_NETWORK_MODE',
    file: ['network', 'mode'],
    parse: oneOf(['router', 'host']),
  },
  {
    key: 'routerNetns',
    flag: 'router-netns',
    env: 'SPRITES_ROUTER_NETNS',
    file: ['network', 'routerNetns'],
    parse: str(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/, 'a network namespace name'),
  },
  {
    key: 'netnsPrefix',
    flag: 'netns-prefix',
    env: 'SPRITES_NETNS_PREFIX',
    file: ['network', 'netnsPrefix'],
    parse: str(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/, 'a short name prefix'),
  },
  {
    key: 'subnet',
    flag: 'subnet',
    env: 'SPRITES_SUBNET',
    file: ['network', 'subnet'],
    parse: str(/^\d{1,3}(\.\d{1,3}){3}\/(8|9|1\d|2[0-4])$/, 'an IPv4 CIDR from /8 to /24'),
  },
  {
    key: 'dnsUpstream',
    flag: 'dns-upstream',
    env: 'SPRITES_DNS_UPSTREAM',
    file: ['network', 'dnsUpstream'],
    parse: parseAddressList,
  },
  {
    key: 'pidsMax',
    flag: 'pids-max',
    env: 'SPRITES_PIDS_MAX',
    file: ['spriteDefaults', 'pidsMax'],
    parse: int(64, 1_000_000),
  },
  {
    key: 'runningLimit',
    flag: 'running-limit',
    env: 'SPRITES_RUNNING_LIMIT',
    file: ['runningLimit'],
    parse: int(0, MAX_INT),
  },
  {
    key: 'warmLimit',
    flag: 'warm-limit',
    env: 'SPRITES_WARM_LIMIT',
    file: ['warmLimit'],
    parse: int(0, MAX_INT),
  },
  {
    key: 'maxSprites',
    flag: 'max-sprites',
    env: 'SPRITES_MAX_SPRITES',
    file: ['limits', 'maxSprites'],
    parse: int(1, MAX_INT),
  },
  {
    key: 'createsPerMinute',
    flag: 'creates-per-minute',
    env: 'SPRITES_CREATES_PER_MINUTE',
    file: ['limits', 'createsPerMinute'],
    parse: int(1, MAX_INT),
  },
  {
    key: 'shutdownTimeoutMs',
    flag: 'shutdown-timeout-ms',
    env: 'SPRITES_SHUTDOWN_TIMEOUT_MS',
    file: ['shutdownTimeoutMs'],
    parse: int(0, 600_000),
  },
  {
    key: 'warmAfterMs',
    flag: 'warm-after-ms',
    env: 'SPRITES_WARM_AFTER_MS',
    file: ['lifecycle', 'warmAfterMs'],
    parse: int(1, MAX_INT),
  },
  {
    key: 'coldAfterMs',
    flag: 'cold-after-ms',
    env: 'SPRITES_COLD_AFTER_MS',
    file: ['lifecycle', 'coldAfterMs'],
    parse: int(1, MAX_INT),
  },
  {
    key: 'minMemAvailableMB',
    flag: 'min-mem-available-mb',
    env: 'SPRITES_MIN_MEM_AVAILABLE_MB',
    file: ['lifecycle', 'minMemAvailableMB'],
    parse: int(0, 1 << 24),
  },
  {
    key: 'lifecycleTickMs',
    flag: 'lifecycle-tick-ms',
    env: 'SPRITES_LIFECYCLE_TICK_MS',
    file: ['lifecycle', 'tickMs'],
    parse: int(10, 60_000),
  },
  {
    key: 'poolSizeGB',
    flag: 'pool-size-gb',
    env: 'SPRITES_POOL_SIZE_GB',
    file: ['poolSizeGB'],
    parse: int(1, 1 << 20),
  },
  {
    key: 'testKillPoint',
    flag: 'test-kill-point',
    env: 'SPRITES_TEST_KILL_POINT',
    file: ['testKillPoint'],
    parse: oneOf(KILL_POINTS),
  },
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    env: 'SPRITES_TLS_CERT',
    file: ['tls', 'cert'],
    parse: str(...ABS),
  },
  {
    key: 'tlsKey',
    flag: 'tls-key',
    env: 'SPRITES_TLS_KEY',
    file: ['tls', 'key'],
    parse: str(...ABS),
  },
  {
    key: 'tlsListen',
    flag: 'tls-listen',
    env: 'SPRITES_TLS_LISTEN',
    file: ['tls', 'listen'],
    parse: parseListen,
  },
  {
    key: 'adminSecret',
    flag: 'admin-secret',
    env: 'SPRITES_ADMIN_SECRET',
    file: ['adminSecret'],
    // The problem never echoes the value: it is a secret.
    parse: (raw) =>
      typeof raw === 'string' && /^[\x21-\x7e]{16,256}$/.test(raw)
        ? raw
        : { problem: 'must be 16-256 printable characters without spaces' },
  },
]
