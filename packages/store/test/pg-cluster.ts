// A throwaway PostgreSQL cluster for tests: its own temp dir, a unix socket only, trust auth,
// stopped and removed at stop(), at process exit, on SIGINT/SIGTERM, and by a watchdog if the
// test process is killed outright.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

/** A running cluster; each test takes a database of its own from it. */
export interface PgCluster {
  /** The directory holding the cluster's socket (and its data and log). */
  readonly socketDir: string
  readonly port: number
  /** A `postgres://` URL of database `name` over the unix socket, as superuser `postgres`. */
  url(name: string): string
  /** Creates an empty database with a fresh name; returns its URL. */
  createDatabase(): Promise<string>
  /** Stops the cluster and removes its directory; safe to call twice. */
  stop(): Promise<void>
}

/** Directory of initdb/pg_ctl/postgres (the newest /usr/lib/postgresql/<v>/bin), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0]) return join(root, versions[0], 'bin')
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim()
  return found && existsSync(join(found, '..', 'pg_ctl')) ? join(found, '..') : null
}

/**
 * The account the server runs as: initdb and postgres refuse root, so as root the binaries run
 * as `postgres` (the Debian package's user), else `nobody`; otherwise as the current user.
 */
function serverAccount(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n')
  for (const name of ['postgres', 'nobody']) {
    const f = passwd.find((l) => l.startsWith(`${name}:`))?.split(':')
    if (f?.[2] && f[3]) return { uid: Number(f[2]), gid: Number(f[3]) }
  }
  throw new Error('running as root, but neither a postgres nor a nobody user exists')
}

/** argv running `bin` as the server account (setpriv execs it directly, no extra process). */
function asServer(account: ReturnType<typeof serverAccount>, bin: string, args: string[]) {
  if (!account) return [bin, ...args]
  const ids = [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups']
  return ['setpriv', ...ids, '--', bin, ...args]
}

/**
 * Starts a cluster in a new temp dir: initdb (trust auth, superuser `postgres`, UTF8, C locale),
 * then pg_ctl start listening on no TCP address, only on a socket in that dir under a random
 * port number, with durability off (a test cluster is never kept).
 * @throws Error when the binaries are missing or the cluster does not come up (with its log).
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL binaries not found (apt-get install postgresql)')
  const account = serverAccount()
  const dir = mkdtempSync(join(tmpdir(), 'sprites-pg-'))
  if (account) chownSync(dir, account.uid, account.gid)
  const data = join(dir, 'data')
  const port = randomInt(20_000, 60_000)
  const exec = (tool: string, args: string[]) => {
    const [cmd, ...rest] = asServer(account, join(bin, tool), args)
    return run(cmd!, rest, { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } })
  }
  const stopArgv = asServer(account, join(bin, 'pg_ctl'), ['-D', data, '-s', 'stop', '-m'])
  const cleanup = registerCleanup(dir, stopArgv)
  try {
    const initdb = ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']
    await exec('initdb', [...initdb, '--no-sync'])
    const opts = [
      "-c listen_addresses=''",
      `-c unix_socket_directories=${dir}`,
      `-p ${port}`,
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
      '-c max_connections=60 -c shared_buffers=16MB',
    ].join(' ')
    const log = join(dir, 'server.log')
    await exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-s', '-o', opts, 'start'])
  } catch (err) {
    const log = existsSync(join(dir, 'server.log'))
      ? readFileSync(join(dir, 'server.log'), 'utf8')
      : ''
    await cleanup()
    throw new Error(`could not start a PostgreSQL test cluster: ${(err as Error).message}\n${log}`)
  }
  return cluster(dir, port, cleanup)
}

function cluster(dir: string, port: number, stop: () => Promise<void>): PgCluster {
  const url = (name: string) => `postgres:///${name}?host=${dir}&port=${port}&user=postgres`
  let n = 0
  return {
    socketDir: dir,
    port,
    url,
    async createDatabase() {
      const name = `sprites_${++n}_${randomBytes(3).toString('hex')}`
      const admin = new pg.Client({ connectionString: url('postgres') })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE ${name}`)
      } finally {
        await admin.end()
      }
      return url(name)
    },
    stop,
  }
}

/**
 * Arranges for the cluster to be stopped and `dir` removed: by the returned function, at process
 * exit, on SIGINT/SIGTERM (then the signal is raised again), and by a detached watchdog shell
 * that does it once this process is gone (SIGKILL, a crash of the runner).
 */
function registerCleanup(dir: string, stopArgv: string[]): () => Promise<void> {
  const quoted = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`
  const stopCmd = [...stopArgv, 'immediate'].map(quoted).join(' ')
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCmd}; rm -rf ${quoted(dir)}`,
    ],
    { detached: true, stdio: 'ignore' },
  )
  watchdog.unref()
  let done = false
  const stopNow = (mode: 'fast' | 'immediate') => {
    if (done) return
    done = true
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
      spawnSync(stopArgv[0]!, [...stopArgv.slice(1), mode, '-w', '-t', '30'], { stdio: 'ignore' })
    }
    rmSync(dir, { recursive: true, force: true })
    try {
      if (watchdog.pid) process.kill(watchdog.pid)
    } catch {
      // Already gone.
    }
    process.off('exit', onExit)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const onExit = () => stopNow('immediate')
  const onSignal = (signal: NodeJS.Signals) => {
    stopNow('immediate')
    process.kill(process.pid, signal)
  }
  process.on('exit', onExit)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return async () => stopNow('fast')
}
