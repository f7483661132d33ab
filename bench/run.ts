// Benchmarks a real spritesd next to the raw building blocks it is made of, in one run.
// Usage (as root): npm run bench -- [--iterations N] [--json out.json] [--own-pool]
import { writeFile } from 'node:fs/promises'
import { cpus, release, tmpdir } from 'node:os'
import { parseArgs } from 'node:util'
import { CleanupStack } from './cleanup.ts'
import { createCrunProbe } from './crun-probe.ts'
import { createNetnsProbe } from './netns-probe.ts'
import type { Probe } from './probe.ts'
import { createReflinkProbe } from './reflink-probe.ts'
import { buildRatios, buildRows, formatReport, type Report } from './report.ts'
import { serverTimingNotes } from './server-log.ts'
import { createSpawnProbe } from './spawn-probe.ts'
import { createColdStartProbe, createWarmExecProbe, type SpriteLedger } from './sprite-probes.ts'
import { deleteSprite, type ServerEndpoint } from './sprites-api.ts'

const INSTANCE = 'bench'
const MEASURE_TIMEOUT_MS = 60_000
const WARMUP_ITERATIONS = 1
/** Aborted by SIGINT/SIGTERM. */
const abort = new AbortController()

/** The part of test/e2e/harness.ts the benchmark uses. */
interface Harness {
  E2E_DATA_DIR: string
  startSpritesd(env?: Record<string, string>): Promise<
    ServerEndpoint & {
      log(): string
      stop(): Promise<void>
    }
  >
}

interface Options {
  iterations: number
  jsonPath?: string
  ownPool: boolean
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', short: 'n' },
      json: { type: 'string' },
      'own-pool': { type: 'boolean', default: false },
    },
  })
  const raw = values.iterations ?? process.env.BENCH_ITERATIONS ?? '20'
  const iterations = Number(raw)
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 500) {
    throw new Error(`--iterations must be an integer from 1 to 500, got ${JSON.stringify(raw)}`)
  }
  return { iterations, jsonPath: values.json, ownPool: values['own-pool'] === true }
}

/** The harness reads SPRITES_E2E_INSTANCE when it loads, so the variable is set first. */
async function loadHarness(): Promise<Harness> {
  process.env.SPRITES_E2E_INSTANCE = INSTANCE
  const url = new URL('../test/e2e/harness.ts', import.meta.url).href
  return (await import(url)) as Harness
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took over ${MEASURE_TIMEOUT_MS} ms`)),
      MEASURE_TIMEOUT_MS,
    )
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

/** Runs every probe once per round, so slow drifts in machine load hit all rows alike. */
async function measureAll(
  probes: Probe[],
  iterations: number,
  signal: AbortSignal,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>()
  const total = WARMUP_ITERATIONS + iterations
  for (let i = 0; i < total; i++) {
    process.stderr.write(`\rround ${i + 1}/${total}${i < WARMUP_ITERATIONS ? ' (warm-up)' : ''}  `)
    for (const probe of probes) {
      signal.throwIfAborted()
      const what = probe.rows.map((r) => r.key).join('/')
      const result = await withTimeout(probe.measure(i), what)
      if (i < WARMUP_ITERATIONS) continue
      for (const [key, v] of Object.entries(result)) {
        samples.set(key, [...(samples.get(key) ?? []), v])
      }
    }
  }
  process.stderr.write('\n')
  return samples
}

async function startServer(cleanup: CleanupStack, ledger: SpriteLedger, notes: string[]) {
  const harness = await loadHarness()
  const t0 = performance.now()
  process.stderr.write(`starting spritesd (data dir ${harness.E2E_DATA_DIR})…\n`)
  const server = await harness.startSpritesd()
  notes.push(`spritesd ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  cleanup.add('stop spritesd', () => server.stop())
  cleanup.add('delete sprites', async () => {
    for (const name of [...ledger]) {
      await deleteSprite(server, name)
      ledger.delete(name)
    }
  })
  return { server, pool: `${harness.E2E_DATA_DIR}/pool` }
}

async function buildProbes(
  opts: Options,
  cleanup: CleanupStack,
  notes: string[],
  ledger: SpriteLedger,
) {
  const { server, pool } = await startServer(cleanup, ledger, notes)
  const probes: Probe[] = [createColdStartProbe(server, ledger)]
  const add = (p: Probe, label: string) => {
    cleanup.add(label, () => p.cleanup())
    probes.push(p)
  }
  add(await createWarmExecProbe(server, ledger), 'warm sprite')
  add(await createCrunProbe(), 'crun bundle')
  const reflink = await createReflinkProbe({
    pool: opts.ownPool ? undefined : pool,
    tempParent: tmpdir(),
  })
  notes.push(`reflink source: ${reflink.describe}`)
  add(reflink.probe, 'reflink pool')
  add(await createNetnsProbe(), 'netns')
  add(createSpawnProbe(), 'spawn')
  return { probes, serverLog: () => server.log() }
}

async function main(): Promise<void> {
  const opts = parseOptions()
  if (process.getuid?.() !== 0) throw new Error('run the benchmark as root')
  const cleanup = new CleanupStack()
  // First signal: finish the current measurement, then clean up in `finally`, so no request is
  // in flight while sprites are deleted. A second signal cleans up at once and exits.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!abort.signal.aborted) {
      process.stderr.write(`\n${sig}: stopping after the current step, then cleaning up…\n`)
      abort.abort(new Error(`interrupted by ${sig}`))
      return
    }
    void cleanup.runAll().finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const notes: string[] = []
  try {
    const { probes, serverLog } = await buildProbes(opts, cleanup, notes, new Set())
    abort.signal.throwIfAborted()
    const samples = await measureAll(probes, opts.iterations, abort.signal)
    notes.push(...serverTimingNotes(serverLog()))
    const rows = buildRows(
      probes.flatMap((p) => p.rows),
      samples,
    )
    const report: Report = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      host: { cpus: cpus().length, kernel: release(), node: process.version },
      iterations: opts.iterations,
      warmupIterations: WARMUP_ITERATIONS,
      notes,
      rows,
      ratios: buildRatios(rows),
    }
    process.stdout.write(formatReport(report))
    if (opts.jsonPath !== undefined) {
      await writeFile(opts.jsonPath, `${JSON.stringify(report, null, 2)}\n`)
    }
  } finally {
    const failures = await cleanup.runAll()
    for (const f of failures) process.stderr.write(`cleanup failed: ${f}\n`)
    if (failures.length > 0) process.exitCode = 1
  }
}

main().catch((err: unknown) => {
  const detail = abort.signal.aborted
    ? (err as Error).message
    : ((err as Error).stack ?? String(err))
  process.stderr.write(`bench failed: ${detail}\n`)
  process.exitCode = 1
})
