// DNS through the sprites' egress resolver next to the same query sent straight to the upstream
// server, from inside real sprites; medians and p90s. Sprite A has no policy (the resolver only
// forwards), sprite B allows allowed.test (an allowed answer also enters B's nftables set before
// it is returned; a denied name is answered REFUSED without asking upstream).
// Usage (as root): SPRITES_E2E_INSTANCE=<instance> npx tsx --conditions=@sprites/source bench/dns-egress.ts [-n 200]
import { parseArgs } from 'node:util'
import { summarize } from './stats.ts'

const { values } = parseArgs({ options: { iterations: { type: 'string', short: 'n' } } })
const ITERATIONS = Number(values.iterations ?? '200')
process.env.SPRITES_E2E_INSTANCE ??= 'dnsbench'

interface Conn {
  baseURL: string
  token: string
}
/** The parts of the e2e helpers used here (loaded by URL, like run.ts). */
interface Harness {
  INSTANCE: string
  instanceDirs(instance: string): { routerNetns: string }
  uniqueName(prefix: string): string
  startSpritesd(env?: Record<string, string>): Promise<Conn & { stop(): Promise<void> }>
}
interface Helpers {
  api(c: Conn, method: string, path: string, o?: { body?: unknown }): Promise<{ status: number }>
  createSprite(c: Conn, name: string): Promise<unknown>
  deleteSprite(c: Conn, name: string): Promise<void>
  sh(c: Conn, name: string, script: string, o?: { timeoutMs?: number }): Promise<string>
}
interface Upstream {
  UPSTREAM_DNS: string
  startEgressUpstream(router: string, netns: string): Promise<{ stop(): void }>
}

const load = (path: string) => import(new URL(path, import.meta.url).href)
const harness = (await load('../test/e2e/harness.ts')) as Harness
const helpers = (await load('../test/e2e/api-helpers.ts')) as Helpers
const up = (await load('../test/e2e/egress-upstream.ts')) as Upstream

/**
 * Times `n` rounds of UDP A queries inside a sprite, one query per kind per round (so load
 * drifts hit every kind alike); prints `{kind: [ms, ...]}`. Each kind is `name@server` or
 * `name@gw` (the sprite's resolver).
 */
const TIMER_PY = `
import json, socket, struct, sys, time
gw = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]
n, kinds = int(sys.argv[1]), sys.argv[2:]
def query(name, server, qid):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    t0 = time.perf_counter()
    s.sendto(q, (server, 53))
    s.recvfrom(4096)
    dt = (time.perf_counter() - t0) * 1000
    s.close()
    return dt
out = {k: [] for k in kinds}
for i in range(n + 1):
    for k in kinds:
        name, _, server = k.partition('@')
        dt = query(name, gw if server == 'gw' else server, i % 65536)
        if i > 0: out[k].append(dt)
print(json.dumps(out))
`

const srv = await harness.startSpritesd({ SPRITES_DNS_UPSTREAM: up.UPSTREAM_DNS })
const names = [harness.uniqueName('dnsb-a'), harness.uniqueName('dnsb-b')]
let upstream: { stop(): void } | undefined
try {
  for (const name of names) {
    await helpers.createSprite(srv, name)
    await helpers.sh(srv, name, 'true')
  }
  const [a = '', b = ''] = names
  const router = harness.instanceDirs(harness.INSTANCE).routerNetns
  upstream = await up.startEgressUpstream(router, `${harness.INSTANCE.slice(0, 20)}-up`)
  const set = await helpers.api(srv, 'POST', `/v1/sprites/${b}/policy/network`, {
    body: { rules: [{ domain: 'allowed.test', action: 'allow' }] },
  })
  if (set.status !== 204) throw new Error(`policy not set: ${set.status}`)
  const time = async (sprite: string, kinds: string[]) =>
    JSON.parse(
      await helpers.sh(
        srv,
        sprite,
        `python3 -c '${TIMER_PY.replaceAll("'", "'\\''")}' ${ITERATIONS} ${kinds.join(' ')}`,
        { timeoutMs: 120_000 },
      ),
    ) as Record<string, number[]>
  const rows: [string, number[]][] = []
  const ra = await time(a, [`allowed.test@${up.UPSTREAM_DNS}`, 'allowed.test@gw'])
  rows.push([
    'direct to the upstream server (no policy)',
    ra[`allowed.test@${up.UPSTREAM_DNS}`] ?? [],
  ])
  rows.push(['through the resolver, no policy', ra['allowed.test@gw'] ?? []])
  const rb = await time(b, ['allowed.test@gw', 'other.test@gw'])
  rows.push(['through the resolver, allowed (+ nft set)', rb['allowed.test@gw'] ?? []])
  rows.push(['through the resolver, denied (REFUSED)', rb['other.test@gw'] ?? []])
  const direct = summarize(rows[0]?.[1] ?? []).p50
  console.log(`DNS A query latency inside a sprite, ${ITERATIONS} rounds (ms)`)
  console.log('| query | p50 | p90 | p50 ÷ direct |')
  console.log('|---|---|---|---|')
  for (const [label, samples] of rows) {
    const s = summarize(samples)
    console.log(
      `| ${label} | ${s.p50.toFixed(3)} | ${s.p90.toFixed(3)} | ${(s.p50 / direct).toFixed(2)} |`,
    )
  }
} finally {
  upstream?.stop()
  for (const name of names) await helpers.deleteSprite(srv, name).catch(() => undefined)
  await srv.stop()
}
