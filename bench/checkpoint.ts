// Checkpoint benchmark: checkpoint with 100 MB and with 2 GB written in a sprite, restore and
// fork, next to a raw reflink copy and a plain full copy of the same disk image; medians.
// Usage (as root): SPRITES_E2E_INSTANCE=<instance> npx tsx --conditions=@sprites/source bench/checkpoint.ts [-n 10]
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { summarize } from './stats.ts'

const { values } = parseArgs({ options: { iterations: { type: 'string', short: 'n' } } })
const ITERATIONS = Number(values.iterations ?? '10')
const FULL_COPY_ITERATIONS = 3
process.env.SPRITES_E2E_INSTANCE ??= 'ckpt'

interface Conn {
  baseURL: string
  token: string
}
/** The parts of test/e2e/harness.ts and api-helpers.ts used here (loaded by URL, like run.ts). */
interface Harness {
  E2E_DATA_DIR: string
  uniqueName(prefix: string): string
  startSpritesd(): Promise<Conn & { stop(): Promise<void> }>
}
interface Helpers {
  api(
    conn: Conn,
    method: string,
    path: string,
    opts?: { body?: unknown; timeoutMs?: number },
  ): Promise<{ status: number; text: string }>
  createSprite(conn: Conn, name: string): Promise<{ id: string }>
  deleteSprite(conn: Conn, name: string): Promise<void>
  sh(conn: Conn, name: string, script: string): Promise<string>
}
const load = (path: string) => import(new URL(path, import.meta.url).href)
const harness = (await load('../test/e2e/harness.ts')) as Harness
const { api, createSprite, deleteSprite, sh } = (await load(
  '../test/e2e/api-helpers.ts',
)) as Helpers

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

async function sample(n: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await time(fn))
  return out
}

async function main(): Promise<void> {
  const srv = await harness.startSpritesd()
  const conn = { baseURL: srv.baseURL, token: srv.token }
  const names: string[] = []
  const rows: Array<[string, number[]]> = []
  const pool = `${harness.E2E_DATA_DIR}/pool`
  try {
    const make = async (mb: number) => {
      const name = harness.uniqueName(`bench-ck${mb}`)
      names.push(name)
      const info = await createSprite(conn, name)
      await sh(
        conn,
        name,
        `dd if=/dev/urandom of=$HOME/data bs=1M count=${mb} conv=fsync 2>/dev/null`,
      )
      return { name, id: info.id }
    }
    const small = await make(100)
    const big = await make(2048)
    const checkpoint = async (name: string) => {
      const r = await api(conn, 'POST', `/v1/sprites/${name}/checkpoint`, { body: {} })
      if (!r.text.includes('"complete"')) throw new Error(`checkpoint failed: ${r.text}`)
    }
    rows.push([
      'checkpoint, 100 MB written (HTTP round trip)',
      await sample(ITERATIONS, () => checkpoint(small.name)),
    ])
    rows.push([
      'checkpoint, 2 GB written (HTTP round trip)',
      await sample(ITERATIONS, () => checkpoint(big.name)),
    ])
    rows.push([
      'restore v1, 2 GB sprite (HTTP round trip, sprite running)',
      await restoreSamples(conn, big.name),
    ])
    rows.push([
      'fork from v1 of the 2 GB sprite (POST /v1/sprites, 201)',
      await forkSamples(conn, big.name, names),
    ])
    const disk = `${pool}/disks/${big.id}.ext4`
    const copy = `${pool}/bench-copy.ext4`
    const cp = (mode: string) => () => {
      execFileSync('cp', [`--reflink=${mode}`, disk, copy])
      rmSync(copy, { force: true })
    }
    rows.push(['raw cp --reflink=always of the disk image', await sample(ITERATIONS, cp('always'))])
    rows.push([
      'plain full copy (cp --reflink=never)',
      await sample(FULL_COPY_ITERATIONS, cp('never')),
    ])
  } finally {
    for (const name of names) await deleteSprite(conn, name).catch(() => undefined)
    await srv.stop()
  }
  console.log('| operation | n | p50 ms | p90 ms | min | max |\n|---|---|---|---|---|---|')
  for (const [what, samples] of rows) {
    const s = summarize(samples)
    const f = (v: number) => v.toFixed(1)
    console.log(`| ${what} | ${s.n} | ${f(s.p50)} | ${f(s.p90)} | ${f(s.min)} | ${f(s.max)} |`)
  }
}

/** Restore of a running sprite: only the restore request is timed, not the exec that wakes it. */
async function restoreSamples(conn: Conn, name: string) {
  const out: number[] = []
  for (let i = 0; i < ITERATIONS; i++) {
    await sh(conn, name, 'true')
    const started = performance.now()
    const r = await api(conn, 'POST', `/v1/sprites/${name}/checkpoints/v1/restore`)
    out.push(performance.now() - started)
    if (!r.text.includes('"complete"')) throw new Error(`restore failed: ${r.text}`)
  }
  return out
}

async function forkSamples(conn: Conn, source: string, names: string[]): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < ITERATIONS; i++) {
    const name = harness.uniqueName('bench-fork')
    names.push(name)
    const started = performance.now()
    const r = await api(conn, 'POST', '/v1/sprites', {
      body: { name, from: { sprite: source, checkpoint: 'v1' } },
    })
    out.push(performance.now() - started)
    if (r.status !== 201) throw new Error(`fork failed: ${r.status} ${r.text}`)
    await deleteSprite(conn, name)
  }
  return out
}

await main()
