// Plain-HTTP and WebSocket helpers for end-to-end tests that talk to a live spritesd, plus
// probes for the host resources a sprite owns (disk file, loop device, mounts, netns, cgroups).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { openSQLiteStore, type Store } from '@sprites/store'
import WebSocket from 'ws'
import { E2E_DATA_DIR, hostResources } from './harness.ts'

/** Where and as whom to talk to a server. */
export interface Conn {
  baseURL: string
  token: string
}

export interface APIResponse {
  status: number
  headers: Headers
  text: string
  /** Parsed body, or undefined when it is not JSON. */
  json: unknown
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown
  /** Sent verbatim (wins over `body`). */
  rawBody?: string | Buffer
  /** `null` sends no Authorization header; a string replaces the connection's token. */
  token?: string | null
  headers?: Record<string, string>
  timeoutMs?: number
}

/** One HTTP request against the API; never throws on an HTTP status. */
export async function api(
  conn: Conn,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<APIResponse> {
  const headers: Record<string, string> = { ...opts.headers }
  const token = opts.token === undefined ? conn.token : opts.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  let body: string | Buffer | undefined = opts.rawBody
  if (body === undefined && opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(`${conn.baseURL}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  })
  const text = await res.text()
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

export interface SpriteInfo {
  id: string
  name: string
  status: string
  config: { ram_mb: number; cpus: number; storage_gb: number; region: string }
}

/** Every sprite created through {@link createSprite}: their sandboxes are this run's cgroups. */
const createdSpriteIDs = new Set<string>()

/** Creates a sprite; throws unless the server answers 201. */
export async function createSprite(
  conn: Conn,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<SpriteInfo> {
  const r = await api(conn, 'POST', '/v1/sprites', { body: { name, ...extra }, timeoutMs: 120_000 })
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`)
  const info = r.json as SpriteInfo
  createdSpriteIDs.add(info.id)
  return info
}

/** Deletes a sprite; 404 (already gone) counts as success. */
export async function deleteSprite(conn: Conn, name: string): Promise<void> {
  const r = await api(conn, 'DELETE', `/v1/sprites/${encodeURIComponent(name)}`, {
    timeoutMs: 60_000,
  })
  if (r.status !== 204 && r.status !== 200 && r.status !== 404) {
    throw new Error(`delete ${name}: ${r.status} ${r.text}`)
  }
}

/** Deletes every named sprite, ignoring failures (for `after` hooks). */
export async function deleteAll(conn: Conn | undefined, names: Iterable<string>): Promise<void> {
  if (!conn) return
  for (const name of names) await deleteSprite(conn, name).catch(() => undefined)
}

export interface ExecOptions {
  env?: string[]
  dir?: string
  /** Written to stdin, which is then closed (`stdin=true`). */
  stdin?: string
  /** Extra query parameters, added verbatim. */
  query?: Record<string, string>
  /** Fails the exec (and terminates the socket) after this long. @default 60_000 */
  timeoutMs?: number
}

export interface ExecResult {
  /** From the exit frame; null when the socket closed without one. */
  code: number | null
  stdout: string
  stderr: string
  sessionID: number | null
  closeCode: number | null
}

/** The WebSocket exec URL of a command (`cmd` repeated, then `env`, `dir`, extra params). */
export function execURL(conn: Conn, name: string, argv: string[], opts: ExecOptions = {}): string {
  const q = new URLSearchParams()
  for (const a of argv) q.append('cmd', a)
  for (const e of opts.env ?? []) q.append('env', e)
  if (opts.dir !== undefined) q.set('dir', opts.dir)
  if (opts.stdin !== undefined) q.set('stdin', 'true')
  for (const [k, v] of Object.entries(opts.query ?? {})) q.set(k, v)
  return `${conn.baseURL.replace(/^http/, 'ws')}/v1/sprites/${encodeURIComponent(name)}/exec?${q}`
}

/** Runs a command over the exec WebSocket and collects its output and exit code. */
export function execWS(
  conn: Conn,
  name: string,
  argv: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const url = execURL(conn, name, argv, opts)
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${conn.token}` } })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let code: number | null = null
    let sessionID: number | null = null
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`exec ${argv.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms`))
    }, opts.timeoutMs ?? 60_000)
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => {
        clearTimeout(timer)
        reject(new Error(`exec upgrade refused: ${res.statusCode} ${body}`))
      })
    })
    ws.on('open', () => {
      if (opts.stdin === undefined) return
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(opts.stdin)]))
      ws.send(Buffer.from([4]))
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const msg = safeJSON(data.toString()) as { type?: string; session_id?: number } | undefined
        if (msg?.type === 'session_info') sessionID = msg.session_id ?? null
        return
      }
      if (data.length === 0) return
      const stream = data[0]
      const payload = data.subarray(1)
      if (stream === 1) out.push(payload)
      else if (stream === 2) err.push(payload)
      else if (stream === 3) {
        code = payload[0] ?? null
        ws.close(1000)
      }
    })
    ws.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    ws.on('close', (closeCode) => {
      clearTimeout(timer)
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        sessionID,
        closeCode,
      })
    })
  })
}

/** Runs `sh -c script` in a sprite; throws unless it exits 0. Returns stdout. */
export async function sh(
  conn: Conn,
  name: string,
  script: string,
  opts: ExecOptions = {},
): Promise<string> {
  const r = await execWS(conn, name, ['sh', '-c', script], opts)
  if (r.code !== 0) {
    throw new Error(`sh -c ${JSON.stringify(script)} exited ${r.code}: ${r.stderr}${r.stdout}`)
  }
  return r.stdout
}

export interface DetachedSession {
  sessionID: number
  /** Output received while connected (stdout and stderr). */
  output(): string
  /** Disconnects; the session keeps running (`detachable=true`). */
  close(): void
}

/** Starts a detachable session and waits for its `session_info`. */
export function startDetached(
  conn: Conn,
  name: string,
  argv: string[],
  timeoutMs = 30_000,
): Promise<DetachedSession> {
  const url = execURL(conn, name, argv, { query: { detachable: 'true' } })
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${conn.token}` } })
    let output = ''
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('no session_info in time'))
    }, timeoutMs)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (data.length > 0 && data[0] !== 3) output += data.subarray(1).toString()
        return
      }
      const msg = safeJSON(data.toString()) as { type?: string; session_id?: number } | undefined
      if (msg?.type !== 'session_info' || typeof msg.session_id !== 'number') return
      clearTimeout(timer)
      resolve({ sessionID: msg.session_id, output: () => output, close: () => ws.close(1000) })
    })
    ws.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}

export interface RawHTTPResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * Sends a WebSocket upgrade request by hand and reports what came back: the plain HTTP error
 * response, or status 101 (the socket is then closed at once).
 */
export function tryUpgrade(
  conn: Conn,
  path: string,
  opts: { token?: string | null; timeoutMs?: number; host?: string } = {},
): Promise<RawHTTPResponse> {
  const url = new URL(path, conn.baseURL)
  const token = opts.token === undefined ? conn.token : opts.token
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
  if (opts.host) auth.host = opts.host
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-version': '13',
        ...auth,
      },
      timeout: opts.timeoutMs ?? 15_000,
    })
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')))
    req.on('error', reject)
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: '' })
    })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.end()
  })
}

/** One-shot HTTP exec (§3.12): status, raw body and the exit code from the final frame. */
export async function postExec(
  conn: Conn,
  name: string,
  query: string,
  timeoutMs = 60_000,
): Promise<{ status: number; headers: Headers; body: Buffer; exitCode: number | null }> {
  const res = await fetch(`${conn.baseURL}/v1/sprites/${encodeURIComponent(name)}/exec?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${conn.token}` },
    signal: AbortSignal.timeout(timeoutMs),
  })
  const body = Buffer.from(await res.arrayBuffer())
  const isFramed = res.status === 200 && body.length >= 2 && body[body.length - 2] === 3
  return {
    status: res.status,
    headers: res.headers,
    body,
    exitCode: isFramed ? (body[body.length - 1] ?? null) : null,
  }
}

function safeJSON(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Opens the server's own SQLite store next to the running server (WAL allows it). */
export function openInstanceStore(dataDir: string = E2E_DATA_DIR): Store {
  return openSQLiteStore(join(dataDir, 'sprites.db'))
}

/** Creates a second org with a token, straight in the store (no HTTP route exists for it). */
export async function createForeignToken(): Promise<string> {
  const store = openInstanceStore()
  try {
    const org = await store.createOrg(`other-${randomBytes(3).toString('hex')}`)
    return (await store.createToken(org.id, 'e2e foreign org')).token
  } finally {
    await store.close()
  }
}

/** The server's sandbox (container and cgroup) id of a sprite, `sp-` + 16 hex digits. */
export function sandboxIDOf(spriteID: string): string {
  return `sp-${spriteID
    .replace(/^sprite-/, '')
    .replaceAll('-', '')
    .slice(0, 16)}`
}

const CGROUP_ROOT = '/sys/fs/cgroup'

/** Every cgroup directory of a sandbox, in any hierarchy, that still exists. */
export function sandboxCgroups(spriteID: string): string[] {
  const id = sandboxIDOf(spriteID)
  let hierarchies: string[] = []
  try {
    hierarchies = readdirSync(CGROUP_ROOT, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(CGROUP_ROOT, d.name))
  } catch {
    return []
  }
  return hierarchies.map((h) => join(h, 'sprites', id)).filter((d) => existsSync(d))
}

/** Pids in a sandbox's pids cgroup (empty when the cgroup is gone). */
export function sandboxPids(spriteID: string): number[] {
  const dir = join(CGROUP_ROOT, 'pids', 'sprites', sandboxIDOf(spriteID))
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * Host processes that sit in any cgroup of the sprite's sandbox (scans `/proc/<pid>/cgroup`, so
 * it also finds processes when the pids hierarchy was already removed).
 */
export function sandboxProcesses(spriteID: string): number[] {
  const needle = `/sprites/${sandboxIDOf(spriteID)}`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(needle)) pids.push(Number(entry))
    } catch {
      // exited meanwhile
    }
  }
  return pids
}

export interface SpriteLeftovers {
  disks: string[]
  /** The host directory of its service logs (`/.sprite/logs` inside). */
  logs: string[]
  loops: string[]
  mounts: string[]
  cgroups: string[]
}

/** Everything of one sprite still present on the host; all lists empty once it is gone. */
export function spriteLeftovers(spriteID: string): SpriteLeftovers {
  const disksDir = join(E2E_DATA_DIR, 'pool', 'disks')
  const disks = existsSync(disksDir)
    ? readdirSync(disksDir)
        .filter((f) => f.startsWith(`${spriteID}.`))
        .map((f) => join(disksDir, f))
    : []
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(spriteID))
  const loops = (hostResources().loops ?? []).filter((f) => f.includes(spriteID))
  const logsDir = join(E2E_DATA_DIR, 'logs', spriteID)
  const logs = existsSync(logsDir) ? [logsDir] : []
  return { disks, logs, loops, mounts, cgroups: sandboxCgroups(spriteID) }
}

/** What {@link spriteLeftovers} reports once a sprite is destroyed. */
export const NO_LEFTOVERS: SpriteLeftovers = Object.freeze({
  disks: [],
  logs: [],
  loops: [],
  mounts: [],
  cgroups: [],
})

/**
 * This instance's share of {@link hostResources}: the harness lists loop devices and cgroups of
 * every instance on the host, and other instances may run at the same time, so loop devices are
 * narrowed to this data directory and cgroups to sandboxes of sprites this process created or
 * this instance's store knows.
 */
export async function instanceResources(): Promise<Record<string, string[]>> {
  const r = hostResources()
  const ids = new Set(createdSpriteIDs)
  const store = openInstanceStore()
  try {
    for (const s of await store.listAllSprites()) ids.add(s.id)
  } finally {
    await store.close()
  }
  const sandboxes = new Set([...ids].map(sandboxIDOf))
  return {
    loops: (r.loops ?? []).filter((f) => f.startsWith(`${E2E_DATA_DIR}/`)),
    mounts: r.mounts ?? [],
    netns: r.netns ?? [],
    cgroups: (r.cgroups ?? []).filter((c) => sandboxes.has(c.split('/').at(-1) ?? '')),
  }
}

/** Counts per kind, for comparing against a baseline. */
export function countsOf(r: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.length]))
}

/** Host processes as `{pid, uid, args}` (`ps -eo pid,uid,args`). */
export function hostProcesses(): { pid: number; uid: number; args: string }[] {
  const out = execFileSync('ps', ['-eo', 'pid=,uid=,args='], { encoding: 'utf8' })
  return out
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), uid: Number(m[2]), args: m[3] ?? '' }))
}

/** Pid of the process listening on a loopback TCP port (`ss -ltnp`), or null. */
export function listenerPid(port: number): number | null {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' })
  const m = /pid=(\d+)/.exec(out)
  return m ? Number(m[1]) : null
}

/** Polls `cond` every 100 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
