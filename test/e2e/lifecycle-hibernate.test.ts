// Hibernation of real sprites with short timings: running → warm (frozen, same pids, memory
// kept) → cold (nothing left on the host), wake on exec/attach/kill, metadata never wakes.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  api,
  createSprite,
  deleteAll,
  NO_LEFTOVERS,
  type SpriteInfo,
  sandboxIDOf,
  sandboxPids,
  sh,
  spriteLeftovers,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import { E2E_DATA_DIR, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const WARM_AFTER_MS = 1500
const COLD_AFTER_MS = 3000

interface Info extends SpriteInfo {
  last_running_at: string | null
  last_warming_at: string | null
  last_started_at: string | null
  last_active_at: string | null
}

function freezerState(spriteID: string): string {
  const file = join('/sys/fs/cgroup/freezer/sprites', sandboxIDOf(spriteID), 'freezer.state')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return 'absent'
  }
}

/** The sandbox's pids except the loop's short `sleep` children. */
function longLived(spriteID: string): number[] {
  const comm = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
    } catch {
      return 'gone'
    }
  }
  return sandboxPids(spriteID)
    .filter((p) => !['sleep', 'gone'].includes(comm(p)))
    .sort((a, b) => a - b)
}

/** A counter the loop writes to the sprite's home, read from the host through the mount. */
function counterOf(spriteID: string): number {
  const file = join(E2E_DATA_DIR, 'mnt', spriteID, 'root', 'home', 'sprite', 'count')
  return Number(readFileSync(file, 'utf8').trim())
}

describe('hibernation', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const names = new Set<string>()

  before(async () => {
    srv = await startSpritesd({
      SPRITES_WARM_AFTER_MS: String(WARM_AFTER_MS),
      SPRITES_COLD_AFTER_MS: String(COLD_AFTER_MS),
      SPRITES_LIFECYCLE_TICK_MS: '100',
    })
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  const info = async (name: string): Promise<Info> => {
    const r = await api(srv, 'GET', `/v1/sprites/${name}`)
    assert.equal(r.status, 200, r.text)
    return r.json as Info
  }
  const waitStatus = (name: string, status: string, ms: number) =>
    waitUntil(async () => (await info(name)).status === status, ms, `${name} becomes ${status}`)

  test('idle → warm keeps pids and memory; exec thaws; warm → cold frees everything', {
    timeout: 120_000,
  }, async () => {
    const sprite = await createSprite(srv, uniqueName('life-hib'))
    names.add(sprite.name)
    const loop = 'i=0; while :; do i=$((i+1)); echo $i > ~/count; sleep 0.05; done'
    const session = await startDetached(srv, sprite.name, ['sh', '-c', loop])
    session.close()
    await waitStatus(sprite.name, 'warm', 10_000)
    const pidsBefore = longLived(sprite.id)
    assert.ok(pidsBefore.length >= 2, 'the agent and the loop')
    assert.equal(freezerState(sprite.id), 'FROZEN')
    const frozenAt = counterOf(sprite.id)
    await new Promise((r) => setTimeout(r, 400))
    assert.equal(counterOf(sprite.id), frozenAt, 'a frozen loop does not count')
    const warm = await info(sprite.name)
    assert.equal(warm.status, 'warm', 'reading metadata does not wake')
    assert.ok(warm.last_warming_at, 'last_warming_at is set')
    const list = await api(srv, 'GET', `/v1/sprites/${sprite.name}/exec`)
    assert.equal((list.json as { count: number }).count, 1, 'the session survives warm')
    assert.equal((await info(sprite.name)).status, 'warm', 'listing sessions does not wake')

    const out = await sh(srv, sprite.name, 'cat ~/count')
    const after = await info(sprite.name)
    assert.equal(after.status, 'running')
    assert.ok(Number(out.trim()) >= frozenAt && Number(out.trim()) < frozenAt + 10, 'same count')
    assert.deepEqual(
      longLived(sprite.id).filter((p) => pidsBefore.includes(p)),
      pidsBefore,
      'every process of before the freeze is still there',
    )
    assert.ok(Date.parse(after.last_running_at ?? '') > Date.parse(warm.last_warming_at ?? ''))
    assert.equal(after.last_started_at, warm.last_started_at, 'a thaw is not a boot')

    await waitStatus(sprite.name, 'warm', 10_000)
    await waitStatus(sprite.name, 'cold', 10_000)
    assert.deepEqual({ ...spriteLeftovers(sprite.id), disks: [], logs: [] }, NO_LEFTOVERS)
    const sessions = await api(srv, 'GET', `/v1/sprites/${sprite.name}/exec`)
    assert.equal((sessions.json as { count: number }).count, 0, 'sessions end on cold')
    assert.equal((await sh(srv, sprite.name, 'echo back')).trim(), 'back')
    const booted = await info(sprite.name)
    assert.equal(booted.status, 'running')
    assert.notEqual(booted.last_started_at, warm.last_started_at, 'a cold wake is a boot')
  })

  test('an attached session keeps the sprite running; a kill wakes a warm sprite', {
    timeout: 60_000,
  }, async () => {
    const sprite = await createSprite(srv, uniqueName('life-att'))
    names.add(sprite.name)
    const session = await startDetached(srv, sprite.name, ['sleep', '600'])
    await new Promise((r) => setTimeout(r, WARM_AFTER_MS * 2))
    assert.equal((await info(sprite.name)).status, 'running', 'attached: stays running')
    session.close()
    await waitStatus(sprite.name, 'warm', 10_000)
    const r = await api(srv, 'POST', `/v1/sprites/${sprite.name}/exec/${session.sessionID}/kill`, {
      body: { signal: 'SIGKILL' },
    })
    assert.equal(r.status, 200, r.text)
    assert.match(r.text, /exited|complete/)
    assert.equal((await info(sprite.name)).status, 'running', 'kill woke the sprite')
  })

  test('a burst of execs on a warm sprite coalesces into one thaw', {
    timeout: 60_000,
  }, async () => {
    const sprite = await createSprite(srv, uniqueName('life-burst'))
    names.add(sprite.name)
    await sh(srv, sprite.name, 'true')
    await waitStatus(sprite.name, 'warm', 10_000)
    const outs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sh(srv, sprite.name, `echo ${i}`)),
    )
    assert.deepEqual(
      outs.map((o) => o.trim()),
      Array.from({ length: 8 }, (_, i) => String(i)),
    )
    const thaws = srv
      .log()
      .split('\n')
      .filter((l) => l.includes(sprite.id) && l.includes('"msg":"sprite thawed"'))
    assert.equal(thaws.length, 1, 'one thaw for 8 concurrent execs')
  })

  test('a live task keeps the sprite running; when it ends the sprite goes warm', {
    timeout: 60_000,
  }, async () => {
    const sprite = await createSprite(srv, uniqueName('life-task'))
    names.add(sprite.name)
    const created = await sh(srv, sprite.name, 'sprite-env tasks start build --expire 1m')
    assert.match(created, /build/)
    await new Promise((r) => setTimeout(r, WARM_AFTER_MS * 2))
    assert.equal((await info(sprite.name)).status, 'running', 'a live task holds the sprite')
    const listed = await sh(srv, sprite.name, 'sprite-env tasks list')
    assert.match(listed, /"name":\s*"build"/)
    await sh(srv, sprite.name, 'sprite-env tasks stop build')
    await waitStatus(sprite.name, 'warm', 10_000)
  })
})
