// X3: per-sprite lifecycle timings. A sprite with `warm_after_s: 1` goes warm about a second
// after its last activity while one on the server's default (30 s) keeps running; SpriteInfo
// echoes the timings in force; M5 changes and resets them.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { api, createSprite, deleteAll, sh } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

interface Lifecycle {
  warm_after_s: number
  cold_after_s: number
}

describe('per-sprite lifecycle timings', { skip: isRoot ? false : 'needs root' }, () => {
  let srv: Spritesd
  const names = new Set<string>()

  before(async () => {
    // Server defaults: 30 s to warm, 10 min to cold. The pool size only matters when the
    // instance's pool does not exist yet (lifecycle-pool-full.test.ts needs a small one).
    srv = await startSpritesd({ SPRITES_POOL_SIZE_GB: '2' })
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  const get = async (name: string) => {
    const r = await api(srv, 'GET', `/v1/sprites/${name}`)
    assert.equal(r.status, 200, r.text)
    return r.json as { status: string; lifecycle: Lifecycle }
  }

  /** Milliseconds until the sprite reports `warm` (polled every 100 ms, at most `limitMs`). */
  const msUntilWarm = async (name: string, limitMs: number): Promise<number> => {
    const started = Date.now()
    while (Date.now() - started < limitMs) {
      if ((await get(name)).status === 'warm') return Date.now() - started
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`${name} did not go warm within ${limitMs} ms`)
  }

  test('validation and the echo of the timings in force', async () => {
    const bad = await api(srv, 'POST', '/v1/sprites', {
      body: { name: uniqueName('life-bad'), lifecycle: { warm_after_s: 0 } },
    })
    assert.equal(bad.status, 400, bad.text)
    assert.match(bad.text, /lifecycle\.warm_after_s must be an integer/)
    const frac = await api(srv, 'POST', '/v1/sprites', {
      body: { name: uniqueName('life-bad'), lifecycle: { cold_after_s: 1.5 } },
    })
    assert.equal(frac.status, 400, frac.text)
  })

  test('warm_after_s=1 goes warm in ~1-2 s, a default sprite stays running', {
    timeout: 120_000,
  }, async (t) => {
    const fast = await createSprite(srv, uniqueName('life-fast'), {
      lifecycle: { warm_after_s: 1, cold_after_s: 600 },
    })
    names.add(fast.name)
    const slow = await createSprite(srv, uniqueName('life-slow'))
    names.add(slow.name)
    assert.deepEqual((fast as unknown as { lifecycle: Lifecycle }).lifecycle, {
      warm_after_s: 1,
      cold_after_s: 600,
    })
    assert.deepEqual((await get(slow.name)).lifecycle, { warm_after_s: 30, cold_after_s: 600 })

    await sh(srv, slow.name, 'true')
    await sh(srv, fast.name, 'true')
    const warmMs = await msUntilWarm(fast.name, 5000)
    t.diagnostic(`warm_after_s=1: warm ${warmMs} ms after the last exec ended`)
    assert.ok(warmMs >= 700, `went warm too early: ${warmMs} ms`)
    // Any bound well under the 30 s default shows the per-sprite setting; 4.5 s leaves room for load.
    assert.ok(warmMs <= 4500, `went warm too late: ${warmMs} ms`)
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal((await get(slow.name)).status, 'running')
    assert.equal((await get(fast.name)).status, 'warm')

    // M5: the default sprite takes warm_after_s=1 and goes warm too; null resets it.
    const put = await api(srv, 'PUT', `/v1/sprites/${slow.name}`, {
      body: { lifecycle: { warm_after_s: 1 } },
    })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual((put.json as { lifecycle: Lifecycle }).lifecycle, {
      warm_after_s: 1,
      cold_after_s: 600,
    })
    await msUntilWarm(slow.name, 5000)
    const reset = await api(srv, 'PUT', `/v1/sprites/${slow.name}`, { body: { lifecycle: null } })
    assert.equal(reset.status, 200, reset.text)
    assert.deepEqual((reset.json as { lifecycle: Lifecycle }).lifecycle, {
      warm_after_s: 30,
      cold_after_s: 600,
    })
    const list = await api(srv, 'GET', `/v1/sprites?prefix=${fast.name}`)
    const listed = (list.json as { sprites: { lifecycle: Lifecycle }[] }).sprites
    assert.deepEqual(listed[0]?.lifecycle, { warm_after_s: 1, cold_after_s: 600 })
  })
})
