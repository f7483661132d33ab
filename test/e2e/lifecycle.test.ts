// Lifecycle of real sprites across daemon restarts and crashes, deletion, many sprites and
// concurrent wakes: data survives, and nothing is left behind on the host.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import {
  api,
  countsOf,
  createSprite,
  deleteAll,
  deleteSprite,
  execWS,
  hostProcesses,
  instanceResources,
  listenerPid,
  NO_LEFTOVERS,
  openInstanceStore,
  sandboxIDOf,
  sandboxPids,
  sandboxProcesses,
  sh,
  spriteLeftovers,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import {
  INSTANCE,
  instanceDirs,
  type Spritesd,
  spritesdCommand,
  startSpritesd,
  uniqueName,
} from './harness.ts'

const isRoot = process.getuid?.() === 0
const CRUN_STATE_DIR = `/run/sprites-${INSTANCE}/crun`
const UID_RANGE = 65536

/**
 * Host processes in a sprite's uid range that belong to its sandbox. Ranges depend only on the
 * slot, so sprites of other daemons on this host (other e2e instances) can share the range;
 * the sandbox's cgroup tells them apart.
 */
async function processesOf(
  spriteID: string,
): Promise<{ pid: number; uid: number; args: string }[]> {
  const store = openInstanceStore()
  const record = await store.getSpriteByID(spriteID).finally(() => store.close())
  assert.ok(record, `sprite ${spriteID} is in the store`)
  const mine = new Set(sandboxProcesses(spriteID))
  return hostProcesses().filter(
    (p) => p.uid >= record.uidBase && p.uid < record.uidBase + UID_RANGE && mine.has(p.pid),
  )
}

/** How many times spritesd's log says the sprite booted. */
function bootsOf(srv: Spritesd, spriteID: string): number {
  return srv
    .log()
    .split('\n')
    .filter((l) => l.includes(spriteID) && l.includes('"sprite started"')).length
}

function statusOf(info: unknown): string | undefined {
  return (info as { status?: string } | undefined)?.status
}

describe('sprite lifecycle', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd | undefined
  let baseline: Record<string, number>
  const names = new Set<string>()

  before(async () => {
    srv = await startSpritesd()
    baseline = countsOf(await instanceResources())
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  test('a file survives a graceful restart of spritesd', { timeout: 180_000 }, async () => {
    const conn = srv!
    const sprite = await createSprite(conn, uniqueName('life-term'))
    names.add(sprite.name)
    const content = randomBytes(16).toString('hex')
    await sh(conn, sprite.name, `echo ${content} > ~/keep.txt`)
    await conn.stop()
    srv = undefined
    assert.deepEqual(
      { ...spriteLeftovers(sprite.id), disks: [], logs: [] },
      NO_LEFTOVERS,
      'a graceful stop leaves no container, mount or loop device behind',
    )
    assert.equal(spriteLeftovers(sprite.id).disks.length, 1, 'the disk file stays')
    assert.equal(spriteLeftovers(sprite.id).logs.length, 1, 'the service logs stay')
    srv = await startSpritesd()
    const info = await api(srv, 'GET', `/v1/sprites/${sprite.name}`)
    assert.equal(info.status, 200)
    assert.equal(statusOf(info.json), 'cold')
    assert.equal((await sh(srv, sprite.name, 'cat ~/keep.txt')).trim(), content)
  })

  test('a synced file survives SIGKILL of spritesd; the restart reconciles leftovers', {
    timeout: 180_000,
  }, async () => {
    const conn = srv!
    const sprite = await createSprite(conn, uniqueName('life-kill'))
    names.add(sprite.name)
    const content = randomBytes(16).toString('hex')
    await sh(conn, sprite.name, `echo ${content} > ~/keep.txt && sync`)
    const sleeper = await startDetached(conn, sprite.name, ['sudo', 'sleep', '600'])
    sleeper.close()
    assert.ok(sandboxPids(sprite.id).length > 0, 'the sprite runs before the crash')
    assert.ok((await processesOf(sprite.id)).length > 0)

    // The harness does not hand out its child; the listener of the port is that child.
    const port = Number(new URL(conn.baseURL).port)
    const pid = listenerPid(port)
    assert.ok(pid, `a process listens on ${port}`)
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    assert.match(cmdline, /packages\/server\/src\/main\.ts/, 'the listener is spritesd')
    process.kill(pid, 'SIGKILL')
    await waitUntil(() => !existsSync(`/proc/${pid}`), 10_000, 'spritesd gone after SIGKILL')
    srv = undefined
    const orphaned = spriteLeftovers(sprite.id)
    assert.ok(
      orphaned.mounts.length > 0 && orphaned.loops.length > 0,
      `the dead daemon left the disk attached, so there is something to reconcile: ${JSON.stringify(orphaned)}`,
    )
    // `stop()` of a child that died of a signal would wait for an exit event that already came.
    rmSync(conn.home, { recursive: true, force: true })

    srv = await startSpritesd()
    const info = await api(srv, 'GET', `/v1/sprites/${sprite.name}`)
    assert.equal(info.status, 200)
    assert.equal(statusOf(info.json), 'cold', 'a sprite comes back cold')
    const left = spriteLeftovers(sprite.id)
    assert.deepEqual(
      { loops: left.loops, mounts: left.mounts, cgroups: left.cgroups },
      { loops: [], mounts: [], cgroups: [] },
      'reconcile removed the dead daemon’s container, mounts and loop device',
    )
    // The killed container's processes may take a moment to be reaped by the host's init.
    await waitUntil(
      async () => (await processesOf(sprite.id)).length === 0,
      5_000,
      'no process of the old container lives on',
    ).catch(async (err: Error) => {
      assert.fail(`${err.message}: ${JSON.stringify(await processesOf(sprite.id))}`)
    })
    assert.ok(!existsSync(`${CRUN_STATE_DIR}/${sandboxIDOf(sprite.id)}`), 'crun state removed')
    assert.equal(left.disks.length, 1, 'the disk file stays')
    assert.equal((await sh(srv, sprite.name, 'cat ~/keep.txt')).trim(), content)
    const sessions = await api(srv, 'GET', `/v1/sprites/${sprite.name}/exec`)
    assert.equal((sessions.json as { count: number }).count, 0, 'old sessions are gone')
  })

  test('delete removes the disk file, netns, cgroups, loop device and mounts', {
    timeout: 120_000,
  }, async () => {
    const conn = srv!
    const before = countsOf(await instanceResources())
    const sprite = await createSprite(conn, uniqueName('life-del'))
    names.add(sprite.name)
    await sh(conn, sprite.name, 'echo data > ~/f && sync')
    const live = spriteLeftovers(sprite.id)
    assert.equal(live.disks.length, 1, 'disk file while it exists')
    assert.ok(live.loops.length >= 1, 'loop device while running')
    assert.ok(live.mounts.length >= 1, 'mounts while running')
    assert.ok(live.cgroups.length >= 1, 'cgroups while running')
    const running = countsOf(await instanceResources())
    assert.equal(running.netns, (before.netns ?? 0) + 1, 'one netns more while running')
    await deleteSprite(conn, sprite.name)
    names.delete(sprite.name)
    assert.deepEqual(spriteLeftovers(sprite.id), NO_LEFTOVERS)
    assert.deepEqual(countsOf(await instanceResources()), before)
    assert.equal((await api(conn, 'GET', `/v1/sprites/${sprite.name}`)).status, 404)
  })

  test('20 sprites with one exec each, all deleted, leave nothing behind', {
    timeout: 300_000,
  }, async () => {
    const conn = srv!
    const before = countsOf(await instanceResources())
    const created: { name: string; id: string }[] = []
    for (let i = 0; i < 20; i++) {
      const s = await createSprite(conn, uniqueName(`life-many${i}`))
      names.add(s.name)
      created.push(s)
    }
    for (let i = 0; i < created.length; i += 5) {
      await Promise.all(
        created.slice(i, i + 5).map(async (s) => {
          assert.equal((await sh(conn, s.name, 'hostname')).trim(), s.name)
        }),
      )
    }
    const running = countsOf(await instanceResources())
    assert.equal(running.netns, (before.netns ?? 0) + 20)
    for (const s of created) {
      await deleteSprite(conn, s.name)
      names.delete(s.name)
    }
    for (const s of created) {
      assert.deepEqual(spriteLeftovers(s.id), NO_LEFTOVERS)
    }
    assert.deepEqual(countsOf(await instanceResources()), before)
  })

  test('10 concurrent execs on one cold sprite all succeed with a single wake', {
    timeout: 120_000,
  }, async () => {
    const conn = srv!
    const sprite = await createSprite(conn, uniqueName('life-wake'))
    names.add(sprite.name)
    assert.equal(sprite.status, 'cold')
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        execWS(conn, sprite.name, ['sh', '-c', `echo run-${i}`], { timeoutMs: 60_000 }),
      ),
    )
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `exec ${i}: ${r.stderr}`)
      assert.equal(r.stdout, `run-${i}\n`)
    })
    const boots = bootsOf(conn, sprite.id)
    assert.equal(boots, 1, `the sprite booted ${boots} times`)
    const info = await api(conn, 'GET', `/v1/sprites/${sprite.name}`)
    assert.equal(statusOf(info.json), 'running')
  })

  test('a second spritesd on the same directories refuses to start and changes nothing', {
    timeout: 120_000,
  }, async () => {
    const conn = srv!
    const sprite = await createSprite(conn, uniqueName('life-second'))
    names.add(sprite.name)
    await sh(conn, sprite.name, 'echo still > ~/here')
    const dirs = instanceDirs(INSTANCE)
    const second = spritesdCommand(['serve'], {
      SPRITES_RUN_DIR: dirs.runDir,
      SPRITES_ROUTER_NETNS: dirs.routerNetns,
      SPRITES_NETNS_PREFIX: dirs.netnsPrefix,
      SPRITES_LISTEN: '127.0.0.1:0',
    })
    assert.equal(second.code, 1, second.out)
    assert.match(second.err, new RegExp(`another spritesd is using ${dirs.dataDir}; stop it first`))
    // The running server and its sprite were not disturbed (a second server would have marked
    // every sprite cold and stopped them).
    assert.equal(statusOf((await api(conn, 'GET', `/v1/sprites/${sprite.name}`)).json), 'running')
    assert.equal(await sh(conn, sprite.name, 'cat ~/here'), 'still\n')
    assert.equal(bootsOf(conn, sprite.id), 1, 'the sprite kept running: it booted once')
  })

  test('with every sprite deleted, the host is back to the baseline', {
    timeout: 120_000,
  }, async () => {
    const conn = srv!
    for (const name of [...names]) {
      await deleteSprite(conn, name)
      names.delete(name)
    }
    assert.deepEqual(countsOf(await instanceResources()), baseline)
  })
})
