// Lifecycle benchmark: exec on a running, a warm (frozen) and a cold sprite, next to the raw
// building blocks (cgroup v1 thaw, `crun run true`), plus the idle cost of a running sprite.
// Usage (as root): node --conditions=@sprites/source --import tsx bench/lifecycle.ts [-n 20]
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CleanupStack } from './cleanup.ts'
import { createCrunProbe } from './crun-probe.ts'
import type { Probe } from './probe.ts'
import { buildRows, formatReport } from './report.ts'
import { createSprite, deleteSprite, execWebSocket, type ServerEndpoint } from './sprites-api.ts'

const WARM_AFTER_MS = 300
const COLD_AFTER_MS = 800
const FREEZER = '/sys/fs/cgroup/freezer'

interface Harness {
  startSpritesd(
    env?: Record<string, string>,
  ): Promise<ServerEndpoint & { pid: number; log(): string; stop(): Promise<void> }>
}

async function loadHarness(): Promise<Harness> {
  process.env.SPRITES_E2E_INSTANCE ??= 'life'
  return (await import(new URL('../test/e2e/harness.ts', import.meta.url).href)) as Harness
}

async function statusOf(s: ServerEndpoint, name: string): Promise<string> {
  const res = await fetch(`${s.baseURL}/v1/sprites/${name}`, {
    headers: { authorization: `Bearer ${s.token}` },
  })
  return ((await res.json()) as { status: string }).status
}

async function waitStatus(s: ServerEndpoint, name: string, want: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while ((await statusOf(s, name)) !== want) {
    if (Date.now() > deadline) throw new Error(`${name} did not become ${want}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** ms from opening the exec socket to the first stdout frame (`echo hi`). */
async function timeExec(s: ServerEndpoint, name: string): Promise<number> {
  const t0 = performance.now()
  const run = execWebSocket(s, name, ['echo', 'hi'])
  const at = await run.firstStdout
  await run.exit
  return at - t0
}

/** One sprite per state: each iteration first brings it to that state, then times an exec. */
function spriteProbe(s: ServerEndpoint, name: string, state: string, key: string): Probe {
  return {
    rows: [
      {
        key,
        label: `exec echo → first output, ${state} sprite`,
        targetP50Ms: state === 'cold' ? 300 : undefined,
      },
    ],
    async measure() {
      if (state !== 'cold' && (await statusOf(s, name)) !== 'running') await timeExec(s, name)
      if (state === 'running') await timeExec(s, name)
      else await waitStatus(s, name, state)
      return { [key]: await timeExec(s, name) }
    },
    async cleanup() {},
  }
}

/** Raw v1 freezer: a `sleep` in a cgroup of its own; time the THAWED write until it reads back. */
function thawProbe(): Probe {
  const dir = join(FREEZER, `sprites-bench-thaw-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const child = spawn('sleep', ['3600'], { stdio: 'ignore' })
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid))
  const state = join(dir, 'freezer.state')
  const waitFor = (want: string) => {
    while (readFileSync(state, 'utf8').trim() !== want) {
      // busy-wait: the kernel finishes within microseconds to a few ms
    }
  }
  return {
    rows: [{ key: 'freezer_thaw', label: 'raw cgroup v1 thaw (freezer.state)' }],
    async measure() {
      writeFileSync(state, 'FROZEN')
      waitFor('FROZEN')
      const t0 = performance.now()
      writeFileSync(state, 'THAWED')
      waitFor('THAWED')
      return { freezer_thaw: performance.now() - t0 }
    },
    async cleanup() {
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      rmdirSync(dir)
    },
  }
}

function sandboxOf(spriteID: string): string {
  return `sp-${spriteID
    .replace(/^sprite-/, '')
    .replaceAll('-', '')
    .slice(0, 16)}`
}

function sandboxPids(spriteID: string): number[] {
  const procs = readFileSync(
    `/sys/fs/cgroup/pids/sprites/${sandboxOf(spriteID)}/cgroup.procs`,
    'utf8',
  )
  return procs.split('\n').filter(Boolean).map(Number)
}

/** RSS (MiB) and CPU (% of one core over `ms`) of everything running in an idle sprite. */
async function idleCost(spriteID: string, ms: number): Promise<string> {
  const pids = sandboxPids(spriteID)
  const rssKB = pids.reduce((sum, pid) => {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return sum + Number(m?.[1] ?? 0)
  }, 0)
  const usage = `/sys/fs/cgroup/cpuacct/sprites/${sandboxOf(spriteID)}/cpuacct.usage`
  const ns = () => Number(readFileSync(usage, 'utf8'))
  const before = ns()
  await new Promise((r) => setTimeout(r, ms))
  const cpu = ((ns() - before) / 1e6 / ms) * 100
  return `idle running sprite: ${pids.length} processes, RSS ${(rssKB / 1024).toFixed(1)} MiB, CPU ${cpu.toFixed(2)} % over ${ms} ms (target ≤ 50 MB, ~0)`
}

let logOf = () => ''

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run the benchmark as root')
  const { values } = parseArgs({ options: { iterations: { type: 'string', short: 'n' } } })
  const iterations = Number(values.iterations ?? 20)
  const cleanup = new CleanupStack()
  const notes: string[] = []
  try {
    const harness = await loadHarness()
    const srv = await harness.startSpritesd({
      SPRITES_WARM_AFTER_MS: String(WARM_AFTER_MS),
      SPRITES_COLD_AFTER_MS: String(COLD_AFTER_MS),
      SPRITES_LIFECYCLE_TICK_MS: '20',
    })
    cleanup.add('stop spritesd', () => srv.stop())
    logOf = () => srv.log()
    const names = ['running', 'warm', 'cold'].map((s) => `bench-life-${s}-${process.pid}`)
    for (const name of names) {
      await createSprite(srv, name)
      cleanup.add(`delete ${name}`, () => deleteSprite(srv, name))
    }
    const [running, warm, cold] = names as [string, string, string]
    const probes: Probe[] = [
      spriteProbe(srv, running, 'running', 'exec_running'),
      spriteProbe(srv, warm, 'warm', 'exec_warm'),
      spriteProbe(srv, cold, 'cold', 'exec_cold'),
      thawProbe(),
      await createCrunProbe(),
    ]
    for (const p of probes) cleanup.add('probe', () => p.cleanup())
    const samples = new Map<string, number[]>()
    for (let i = 0; i <= iterations; i++) {
      process.stderr.write(`\rround ${i + 1}/${iterations + 1}  `)
      for (const p of probes) {
        const r = await p.measure(i)
        if (i === 0) continue
        for (const [k, v] of Object.entries(r)) samples.set(k, [...(samples.get(k) ?? []), v])
      }
    }
    process.stderr.write('\n')
    const rows = buildRows(
      probes.flatMap((p) => p.rows),
      samples,
    )
    const p50 = (key: string) => rows.find((r) => r.key === key)?.p50 ?? Number.NaN
    notes.push(`raw v1 thaw p50 ${(p50('freezer_thaw') * 1000).toFixed(0)} µs`)
    notes.push(
      `warm wake adds ${(p50('exec_warm') - p50('exec_running')).toFixed(1)} ms p50 over a running sprite (target ≤ 10 ms)`,
    )
    const info = await fetch(`${srv.baseURL}/v1/sprites/${running}`, {
      headers: { authorization: `Bearer ${srv.token}` },
    }).then((r) => r.json() as Promise<{ id: string }>)
    await timeExec(srv, running)
    notes.push(await idleCost(info.id, WARM_AFTER_MS - 100))
    const report = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      host: { cpus: cpus().length, kernel: release(), node: process.version },
      iterations,
      warmupIterations: 1,
      notes,
      rows,
      ratios: [],
    }
    process.stdout.write(formatReport(report))
  } catch (err) {
    if (process.env.BENCH_LOG) process.stderr.write(logOf())
    throw err
  } finally {
    for (const f of await cleanup.runAll()) process.stderr.write(`cleanup failed: ${f}\n`)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
