// bench/url.ts: the sprite URL next to the same request sent straight to the sprite's address.
// Usage (root, repo root): node --conditions=@sprites/source --import tsx bench/url.ts [-n 200]
// Uses the e2e harness instance BENCH_INSTANCE (default `svc`). Prints medians side by side:
//   - latency of one GET (the client opens a new connection each time; behind the URL, spritesd
//     reuses keep-alive connections into the sprite): URL vs direct
//   - requests per second with 8 concurrent clients: URL vs direct
//   - first byte of a URL request to a cold sprite whose http_port service must start
// The direct client runs inside the router netns (where the sprite's address is routed), the
// URL client in the root netns; both are the same Node script, so only the path differs.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { summarize } from './stats.ts'

const { values } = parseArgs({ options: { n: { type: 'string', short: 'n', default: '200' } } })
const N = Number(values.n)
const INSTANCE = process.env.BENCH_INSTANCE ?? 'svc'
process.env.SPRITES_E2E_INSTANCE = INSTANCE
const ROUTER_NETNS = `sprites-${INSTANCE}-rt`
const PORT = 8000
const COLD_ROUNDS = 5

interface Conn {
  baseURL: string
  token: string
}
interface Spritesd extends Conn {
  stop(): Promise<void>
}
/** The parts of test/e2e used here (loaded by URL: bench's tsconfig covers bench/ only). */
interface Harness {
  startSpritesd(): Promise<Spritesd>
  uniqueName(prefix: string): string
}
interface Helpers {
  createSprite(c: Conn, name: string): Promise<unknown>
  deleteSprite(c: Conn, name: string): Promise<void>
  execWS(c: Conn, name: string, argv: string[], o: { stdin: string }): Promise<unknown>
  sh(c: Conn, name: string, script: string): Promise<string>
  api(c: Conn, method: string, path: string, o: { body: unknown }): Promise<unknown>
}
interface Fixtures {
  PY_SERVER: string
}
const load = <T>(path: string): Promise<T> =>
  import(new URL(path, import.meta.url).href) as Promise<T>

// The load client: sequential latency samples, then a fixed-time concurrent run.
const CLIENT = String.raw`
import { request } from 'node:http'
const [host, port, hostHeader, auth, n, conc, secs] = process.argv.slice(2)
const one = () => new Promise((resolve, reject) => {
  const req = request({ host, port, path: '/', agent: false, headers: { host: hostHeader, ...(auth ? { authorization: auth } : {}) } }, (res) => {
    res.resume(); res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error('status ' + res.statusCode)))
  })
  req.on('error', reject); req.end()
})
const lat = []
for (let i = 0; i < 20; i++) await one()
for (let i = 0; i < Number(n); i++) { const t = performance.now(); await one(); lat.push(performance.now() - t) }
let done = 0
const end = Date.now() + Number(secs) * 1000
await Promise.all(Array.from({ length: Number(conc) }, async () => { while (Date.now() < end) { await one(); done++ } }))
console.log(JSON.stringify({ lat, rps: done / Number(secs) }))
`

interface ClientResult {
  lat: number[]
  rps: number
}

function runClient(file: string, args: string[], netns?: string): Promise<ClientResult> {
  const argv = [process.execPath, file, ...args]
  const [cmd, ...rest] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ClientResult) : reject(new Error(`client ${code}`)),
    )
  })
}

async function firstByteMs(baseURL: string, host: string, token: string): Promise<number> {
  const { request } = await import('node:http')
  const u = new URL(baseURL)
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: '/',
        headers: { host, authorization: `Bearer ${token}` },
      },
      (res) => {
        res.once('data', () => resolve(performance.now() - t0))
        res.resume()
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`

async function main(): Promise<void> {
  const h = await load<Harness>('../test/e2e/harness.ts')
  const api = await load<Helpers>('../test/e2e/api-helpers.ts')
  const fx = await load<Fixtures>('../test/e2e/url-fixtures.ts')
  const dir = mkdtempSync(join(tmpdir(), 'bench-url-'))
  const client = join(dir, 'client.mjs')
  writeFileSync(client, CLIENT)
  let srv = await h.startSpritesd()
  let conn = { baseURL: srv.baseURL, token: srv.token }
  const name = h.uniqueName('benchurl')
  try {
    const info = (await api.createSprite(conn, name)) as unknown as { url: string }
    const host = () => `${new URL(info.url).hostname}:${new URL(conn.baseURL).port}`
    await api.execWS(conn, name, ['sh', '-c', 'cat > /home/sprite/srv.py'], { stdin: fx.PY_SERVER })
    await api.api(conn, 'PUT', `/v1/sprites/${name}/services/web?duration=1s`, {
      body: { cmd: 'python3', args: ['/home/sprite/srv.py', String(PORT)], http_port: PORT },
    })
    const ip = (
      await api.sh(conn, name, "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")
    ).trim()
    const u = new URL(conn.baseURL)
    const viaURL = await runClient(client, [
      u.hostname,
      u.port,
      host(),
      `Bearer ${conn.token}`,
      String(N),
      '8',
      '3',
    ])
    const direct = await runClient(
      client,
      [ip, String(PORT), `${ip}:${PORT}`, '', String(N), '8', '3'],
      ROUTER_NETNS,
    )
    const cold: number[] = []
    for (let i = 0; i < COLD_ROUNDS; i++) {
      await srv.stop()
      srv = await h.startSpritesd()
      conn = { baseURL: srv.baseURL, token: srv.token }
      cold.push(await firstByteMs(conn.baseURL, host(), conn.token))
    }
    const a = summarize(viaURL.lat)
    const b = summarize(direct.lat)
    const c = summarize(cold)
    console.log(
      `\nsprite URL vs direct (${N} sequential GETs each, new client connection per request)`,
    )
    console.log(
      `  GET p50   URL ${fmt(a.p50)}   direct ${fmt(b.p50)}   added ${fmt(a.p50 - b.p50)} (target ≤ 1 ms)`,
    )
    console.log(`  GET p90   URL ${fmt(a.p90)}   direct ${fmt(b.p90)}`)
    console.log(
      `  req/s (8 clients, 3 s)   URL ${viaURL.rps.toFixed(0)}   direct ${direct.rps.toFixed(0)}   ratio ${((100 * viaURL.rps) / direct.rps).toFixed(0)} % (target ≥ 50 %)`,
    )
    console.log(
      `  cold first byte (${COLD_ROUNDS} spritesd restarts)   p50 ${fmt(c.p50)}   min ${fmt(c.min)}   max ${fmt(c.max)} (target ≤ 500 ms)`,
    )
  } finally {
    await api.deleteSprite(conn, name).catch(() => undefined)
    await srv.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
