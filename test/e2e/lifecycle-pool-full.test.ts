// A full storage pool: create, fork and checkpoint fail with 507 `insufficient_storage` and a
// clear message, leave no row, disk file or checkpoint behind, running sprites keep working, and
// creates work again once space is freed. The pool is filled from the host with a file the test
// removes afterwards; it needs a small pool, so the instance's pool is made with 2 GiB.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { api, createSprite, deleteAll, openInstanceStore, sh } from './api-helpers.ts'
import {
  INSTANCE,
  instanceDirs,
  releaseInstance,
  type Spritesd,
  startSpritesd,
  uniqueName,
} from './harness.ts'

const isRoot = process.getuid?.() === 0
/** A small pool of its own, so filling it never touches the other e2e files' instance. */
const OWN_INSTANCE = `pf${INSTANCE.slice(0, 4)}`
const E2E_DATA_DIR = instanceDirs(OWN_INSTANCE).dataDir
const POOL = join(E2E_DATA_DIR, 'pool')
const FILLER = join(POOL, 'pool-full-test.filler')
const MIB = 1024 ** 2
/** A larger pool would fill the host's disk through the sparse pool file: refuse it. */
const MAX_POOL_BYTES = 8 * 1024 ** 3

const poolStat = () => {
  const s = statfsSync(POOL)
  return { size: s.blocks * s.bsize, free: s.bavail * s.bsize }
}

/** Every file name under the pool's disks/ and checkpoints/ directories. */
function poolFiles(): string[] {
  const list = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))) : []
  return [...list(join(POOL, 'disks')), ...list(join(POOL, 'checkpoints'))].sort()
}

/** Gives the filler's blocks back to the host's disk (the pool file is sparse). */
function trimPool(): void {
  try {
    execFileSync('fstrim', [POOL])
  } catch {
    // A pool without discard support keeps the blocks allocated; nothing else to do.
  }
}

describe('full storage pool', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const names = new Set<string>()

  before(async () => {
    srv = await startSpritesd({ SPRITES_POOL_SIZE_GB: '2' }, { instance: OWN_INSTANCE })
  })

  after(async () => {
    rmSync(FILLER, { force: true })
    trimPool()
    await deleteAll(srv, names)
    await srv?.stop()
    releaseInstance(OWN_INSTANCE)
    rmSync(E2E_DATA_DIR, { recursive: true, force: true })
  })

  test('create, fork and checkpoint fail with 507 and leave nothing; freeing space heals', {
    timeout: 240_000,
  }, async () => {
    const { size } = poolStat()
    assert.ok(
      size <= MAX_POOL_BYTES,
      `the pool of this e2e instance is ${Math.round(size / 1024 ** 3)} GiB; this test fills ` +
        `it, so it needs one of at most 8 GiB: remove ${E2E_DATA_DIR} (pool unmounted) and rerun`,
    )
    const keep = await createSprite(srv, uniqueName('life-keep'))
    names.add(keep.name)
    assert.equal((await sh(srv, keep.name, 'echo up')).trim(), 'up')
    const before = poolFiles()

    // Leave 32 MiB free: below the 256 MiB a new disk must leave.
    execFileSync('fallocate', ['-l', String(poolStat().free - 32 * MIB), FILLER])
    assert.ok(poolStat().free < 64 * MIB, `pool still has ${poolStat().free} bytes free`)

    const name = uniqueName('life-nospace')
    const r = await api(srv, 'POST', '/v1/sprites', { body: { name }, timeoutMs: 60_000 })
    assert.equal(r.status, 507, r.text)
    const body = r.json as { error: string; message: string; free_bytes: number }
    assert.equal(body.error, 'insufficient_storage')
    assert.match(body.message, /storage pool is full .* delete sprites or checkpoints/)
    assert.ok(body.free_bytes < 64 * MIB)
    assert.equal((await api(srv, 'GET', `/v1/sprites/${name}`)).status, 404)

    const fork = await api(srv, 'POST', '/v1/sprites', {
      body: { name: uniqueName('life-nofork'), from: { sprite: keep.name } },
      timeoutMs: 60_000,
    })
    assert.equal(fork.status, 507, fork.text)

    const ckpt = await api(srv, 'POST', `/v1/sprites/${keep.name}/checkpoint`, {
      body: { comment: 'no room' },
      timeoutMs: 60_000,
    })
    assert.match(ckpt.text, /"type":"error".*storage pool is full/)
    const listed = await api(srv, 'GET', `/v1/sprites/${keep.name}/checkpoints`)
    assert.deepEqual(
      (listed.json as { id: string }[]).map((c) => c.id).filter((id) => id !== 'Current'),
      ['v0'],
    )

    // Nothing half-made: no new row, disk file or checkpoint image.
    assert.deepEqual(poolFiles(), before)
    const store = openInstanceStore(E2E_DATA_DIR)
    try {
      const rows = (await store.listAllSprites()).filter(
        (s) => names.has(s.name) || s.name === name,
      )
      assert.deepEqual(
        rows.map((s) => s.name),
        [keep.name],
      )
    } finally {
      await store.close()
    }

    // The running sprite keeps working (small writes fit in its already allocated blocks).
    assert.equal((await sh(srv, keep.name, 'echo still > ~/f && cat ~/f')).trim(), 'still')

    rmSync(FILLER)
    trimPool()
    const again = await createSprite(srv, name)
    names.add(again.name)
    assert.equal((await sh(srv, again.name, 'echo fine')).trim(), 'fine')
  })
})
