// Scale: N sprites (default 200) created, each written to, sent to cold by the lifecycle, all
// woken again and checked; with all of them cold, host memory is back to its baseline and no
// mount or loop device is left. About a minute for 200 on the project's machines
// (SPRITES_E2E_SCALE_N sets N).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import {
  api,
  countsOf,
  createSprite,
  deleteAll,
  instanceResources,
  sh,
  waitUntil,
} from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
/** 200 by default (the figure, about a minute here); `SPRITES_E2E_SCALE_N` changes it. */
const N = Number(process.env.SPRITES_E2E_SCALE_N ?? 200)
const CONCURRENCY = 4

function memAvailableMB(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))
  return Math.round(Number(m?.[1]) / 1024)
}

/** Runs `fn` over `items`, `CONCURRENCY` at a time. */
async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item)
    }),
  )
}

async function counters(srv: Spritesd): Promise<Record<string, number>> {
  const r = await api(srv, 'GET', '/v1/sprites?max_results=1')
  const body = r.json as Record<string, number>
  return { running: body.running ?? -1, warm: body.warm ?? -1, cold: body.cold ?? -1 }
}

describe('scale', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd | undefined
  const names: string[] = []

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  test(`${N} sprites: created, cold, all woken and checked; memory back to baseline`, {
    timeout: 30 * 60_000,
  }, async (t) => {
    const memBefore = memAvailableMB()
    srv = await startSpritesd({
      SPRITES_WARM_AFTER_MS: '500',
      SPRITES_COLD_AFTER_MS: '1000',
      SPRITES_LIFECYCLE_TICK_MS: '200',
      SPRITES_LOG_LEVEL: 'warn',
    })
    const baseline = countsOf(await instanceResources())
    const conn = srv
    for (let i = 0; i < N; i++) names.push(uniqueName(`life-scale-${i}`))
    let t0 = performance.now()
    await pool(names, async (name) => {
      await createSprite(conn, name)
      await sh(conn, name, `echo ${name} > ~/id && sync ~/id`).catch((err: Error) => {
        throw new Error(`${err.message}\nserver log:\n${conn.log().slice(-3000)}`)
      })
    })
    const createMs = performance.now() - t0
    await waitUntil(async () => (await counters(conn)).cold === N, 120_000, 'all cold')
    const memCold1 = memAvailableMB()
    t0 = performance.now()
    await pool(names, async (name) => {
      assert.equal((await sh(conn, name, 'cat ~/id')).trim(), name)
    })
    const wakeMs = performance.now() - t0
    await waitUntil(async () => (await counters(conn)).cold === N, 120_000, 'all cold again')
    const memCold2 = memAvailableMB()
    const leftovers = countsOf(await instanceResources())
    t.diagnostic(
      JSON.stringify({
        sprites: N,
        createAndFirstExecPerSpriteMs: Math.round(createMs / N),
        coldWakeAndExecPerSpriteMs: Math.round(wakeMs / N),
        memAvailableMB: {
          before: memBefore,
          allColdAfterCreate: memCold1,
          allColdAfterWake: memCold2,
        },
        leftovers,
        baseline,
      }),
    )
    assert.equal(leftovers.loops, baseline.loops, 'no loop device left with every sprite cold')
    assert.equal(leftovers.mounts, baseline.mounts, 'no mount left with every sprite cold')
    assert.ok(memBefore - memCold2 < 512, `memory back to baseline: ${memBefore} → ${memCold2} MiB`)
  })
})
