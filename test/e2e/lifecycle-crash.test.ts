// Crash recovery: spritesd SIGKILLs itself at injected kill points of create, delete, wake and
// hibernate (SPRITES_TEST_KILL_POINT); each restart must find every sprite in a truthful state
// (cold at worst) with its data, and nothing leaked. Ends with a simulated host reboot.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  api,
  countsOf,
  createSprite,
  deleteAll,
  instanceResources,
  NO_LEFTOVERS,
  sandboxProcesses,
  sh,
  spriteLeftovers,
  waitUntil,
} from './api-helpers.ts'
import { E2E_DATA_DIR, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const FAST = {
  SPRITES_WARM_AFTER_MS: '1000',
  SPRITES_COLD_AFTER_MS: '600000',
  SPRITES_LIFECYCLE_TICK_MS: '100',
}

/** Starts spritesd that dies at `point`. */
function startWithKillPoint(point: string): Promise<Spritesd> {
  return startSpritesd({ ...FAST, SPRITES_TEST_KILL_POINT: point })
}

/** Waits until the daemon SIGKILLed itself (its pid is gone). */
async function died(srv: Spritesd): Promise<void> {
  await waitUntil(() => !existsSync(`/proc/${srv.pid}`), 30_000, 'spritesd killed itself')
  assert.doesNotMatch(srv.log(), /spritesd: /, 'it died at the kill point, not of an error')
  await srv.stop()
}

/** A request that the crash cuts off; the outcome does not matter. */
async function cutOff(p: Promise<unknown>): Promise<void> {
  await p.catch(() => undefined)
}

async function statusOf(srv: Spritesd, name: string): Promise<string | number> {
  const r = await api(srv, 'GET', `/v1/sprites/${name}`)
  return r.status === 200 ? (r.json as { status: string }).status : r.status
}

describe('crash recovery', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd | undefined
  const names = new Set<string>()

  after(async () => {
    if (srv && existsSync(`/proc/${srv.pid}`)) {
      await deleteAll(srv, names)
      await srv.stop()
    } else {
      const clean = await startSpritesd()
      await deleteAll(clean, names)
      await clean.stop()
    }
  })

  test('SIGKILL at wake, hibernate, delete and create; then a host reboot', {
    timeout: 300_000,
  }, async () => {
    const baseline = countsOf(await instanceResources())
    // wake:after-attach: the disk is attached, no sandbox yet.
    srv = await startWithKillPoint('wake:after-attach')
    const keep = await createSprite(srv, uniqueName('life-crash'))
    names.add(keep.name)
    await cutOff(sh(srv, keep.name, 'true'))
    await died(srv)

    // hibernate:after-freeze: the sandbox is left frozen; a file was fsync'd just before.
    srv = await startWithKillPoint('hibernate:after-freeze')
    assert.equal(await statusOf(srv, keep.name), 'cold', 'after a crash mid-wake: cold')
    const content = randomBytes(16).toString('hex')
    await sh(srv, keep.name, `echo ${content} > ~/synced.txt && sync ~/synced.txt`)
    await died(srv)
    const leftover = sandboxProcesses(keep.id)
    assert.ok(leftover.length > 0, 'the frozen sandbox outlived spritesd')
    for (const pid of leftover) process.kill(pid, 'SIGKILL')

    // delete:after-stop, on a second sprite; the first one must be untouched.
    srv = await startWithKillPoint('delete:after-stop')
    assert.equal(await statusOf(srv, keep.name), 'cold', 'after a crash mid-hibernate: cold')
    assert.deepEqual(spriteLeftovers(keep.id), {
      ...NO_LEFTOVERS,
      disks: spriteLeftovers(keep.id).disks,
      logs: spriteLeftovers(keep.id).logs,
    })
    assert.equal((await sh(srv, keep.name, 'cat ~/synced.txt')).trim(), content)
    const doomed = await createSprite(srv, uniqueName('life-del'))
    names.add(doomed.name)
    await sh(srv, doomed.name, 'echo x > ~/x')
    await cutOff(api(srv, 'DELETE', `/v1/sprites/${doomed.name}`))
    await died(srv)

    // create:after-disk: the disk exists, the row is still `creating`.
    srv = await startWithKillPoint('create:after-disk')
    assert.equal(await statusOf(srv, doomed.name), 404, 'a half-deleted sprite is finished off')
    assert.deepEqual(spriteLeftovers(doomed.id), NO_LEFTOVERS)
    assert.equal(await statusOf(srv, keep.name), 'cold', 'the live sprite of a crash is cold')
    const half = uniqueName('life-half')
    await cutOff(api(srv, 'POST', '/v1/sprites', { body: { name: half } }))
    await died(srv)

    srv = await startSpritesd(FAST)
    assert.equal(await statusOf(srv, half), 404, 'a half-created sprite is rolled back')
    const disks = join(E2E_DATA_DIR, 'pool', 'disks')
    assert.equal(
      execFileSync('ls', [disks], { encoding: 'utf8' }).includes(half),
      false,
      'no disk of the half-created sprite',
    )
    assert.equal((await sh(srv, keep.name, 'cat ~/synced.txt')).trim(), content)

    // Simulated host reboot: everything stopped, the pool unmounted and its loop detached.
    await srv.stop()
    srv = undefined
    const pool = join(E2E_DATA_DIR, 'pool')
    const dev = execFileSync('findmnt', ['-n', '-o', 'SOURCE', pool], { encoding: 'utf8' }).trim()
    execFileSync('umount', [pool])
    // A loop mount made with autoclear is already detached by the umount.
    if (dev.startsWith('/dev/loop') && existsSync(`/sys/block/${dev.slice(5)}/loop`))
      execFileSync('losetup', ['-d', dev])
    // The device is free now (or already taken by someone else's file, never our pool's).
    const backing = `/sys/block/${dev.slice(5)}/loop/backing_file`
    const backs = existsSync(backing) ? readFileSync(backing, 'utf8').trim() : ''
    assert.ok(!backs.startsWith(pool), `the pool's loop device is detached (${dev}: ${backs})`)
    srv = await startSpritesd(FAST)
    assert.equal(await statusOf(srv, keep.name), 'cold', 'after a reboot: cold')
    assert.equal((await sh(srv, keep.name, 'cat ~/synced.txt')).trim(), content)
    await deleteAll(srv, names)
    names.clear()
    assert.deepEqual(countsOf(await instanceResources()), baseline, 'nothing leaked')
  })
})
