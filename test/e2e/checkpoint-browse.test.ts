// Checkpoints inside a sprite and of warm sprites (issue 4): the newest 5 checkpoints are
// browsable read-only under /.sprite/checkpoints/<id>/, follow create, delete and restore, and
// leave no mount or loop device behind; a warm (frozen) sprite is checkpointed without waking
// it and without an fsfreeze deadlock, and restores to the checkpointed contents.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  api,
  type Conn,
  createSprite,
  deleteAll,
  deleteSprite,
  execWS,
  sandboxIDOf,
  sh,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import { E2E_DATA_DIR, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const RUN_DIR = `/run/sprites-${process.env.SPRITES_E2E_INSTANCE ?? 'e2e'}`
const WARM_AFTER_MS = 500

/** Host mounts of one sprite's views (its shared directory and everything below it). */
function viewMounts(spriteID: string): string[] {
  const dir = join(RUN_DIR, 'ckpt', sandboxIDOf(spriteID))
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`) || m.includes(sandboxIDOf(spriteID)))
}

/** Loop devices backed by one of the sprite's checkpoint images. */
function checkpointLoops(spriteID: string): string[] {
  const out = execFileSync('losetup', ['-a', '-O', 'BACK-FILE', '-n'], { encoding: 'utf8' })
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((f) => f.includes(`/checkpoints/${spriteID}/`))
}

const sorted = (text: string) => text.trim().split(/\s+/).filter(Boolean).sort().join(' ')

describe('checkpoints inside and of warm sprites', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []
  const path = (name: string, rest = '') => `/v1/sprites/${name}${rest}`

  before(async () => {
    srv = await startSpritesd({
      SPRITES_WARM_AFTER_MS: String(WARM_AFTER_MS),
      SPRITES_COLD_AFTER_MS: '600000',
      SPRITES_LIFECYCLE_TICK_MS: '100',
    })
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  async function checkpoint(name: string): Promise<string> {
    const r = await api(conn, 'POST', path(name, '/checkpoint'), { body: {}, timeoutMs: 20_000 })
    assert.equal(r.status, 200, r.text)
    const last = JSON.parse(r.text.trim().split('\n').at(-1) ?? '{}') as { id: string }
    return last.id
  }
  async function restore(name: string, id: string): Promise<void> {
    const r = await api(conn, 'POST', path(name, `/checkpoints/${id}/restore`), {
      timeoutMs: 30_000,
    })
    assert.equal(r.status, 200, r.text)
    assert.match(r.text, /"complete"/)
  }
  const status = async (name: string) =>
    ((await api(conn, 'GET', path(name))).json as { status: string }).status
  /** The views that are mounted (an empty mount point does not count), sorted. */
  const lsViews = (name: string) =>
    sh(
      conn,
      name,
      'ls /.sprite/checkpoints; for d in /.sprite/checkpoints/*; do [ -e "$d" ] && [ ! -d "$d/home" ] && echo "unmounted:$d"; done; true',
    ).then(sorted)
  const waitViews = (name: string, want: string) =>
    waitUntil(async () => (await lsViews(name)) === want, 10_000, `views become ${want}`)

  test('the newest 5 checkpoints are browsable read-only and follow delete and restore', {
    timeout: 180_000,
  }, async () => {
    const name = uniqueName('ck-browse')
    names.push(name)
    const { id } = await createSprite(conn, name)
    for (let i = 1; i <= 7; i++) {
      await sh(conn, name, `echo content-${i} > ~/f; sync`)
      assert.equal(await checkpoint(name), `v${i}`)
    }
    await sh(conn, name, 'echo live > ~/f')
    await waitViews(name, 'v3 v4 v5 v6 v7')
    assert.equal(
      (await sh(conn, name, 'cat /.sprite/checkpoints/v5/home/sprite/f')).trim(),
      'content-5',
    )
    assert.equal((await sh(conn, name, 'cat ~/f')).trim(), 'live', 'the live disk is untouched')
    const owner = await sh(conn, name, 'stat -c %U:%G /.sprite/checkpoints/v5/home/sprite/f ~/f')
    assert.deepEqual(owner.trim().split('\n'), ['sprite:sprite', 'sprite:sprite'], 'owners map')

    for (const write of [
      'echo x > /.sprite/checkpoints/v5/home/sprite/f',
      'sudo touch /.sprite/checkpoints/v5/new',
      'sudo rm -rf /.sprite/checkpoints/v5/home',
      'sudo mkdir /.sprite/checkpoints/v9',
    ]) {
      const r = await execWS(conn, name, ['sh', '-c', write])
      assert.notEqual(r.code, 0, `${write} must fail`)
      assert.match(r.stderr, /Read-only file system/, write)
    }
    assert.equal(
      (await sh(conn, name, 'cat /.sprite/checkpoints/v5/home/sprite/f')).trim(),
      'content-5',
    )
    assert.equal(viewMounts(id).length, 6, 'the shared directory and 5 views')
    assert.equal(checkpointLoops(id).length, 5, 'one loop device per view')

    const del = await api(conn, 'DELETE', path(name, '/checkpoints/v5'))
    assert.equal(del.status, 204, del.text)
    await waitViews(name, 'v2 v3 v4 v6 v7')
    await waitUntil(() => checkpointLoops(id).length === 5, 5_000, 'the v5 loop is released')

    await restore(name, 'v3')
    await waitUntil(async () => (await status(name)) !== 'cold', 10_000, 'boots after restore')
    assert.equal((await sh(conn, name, 'cat ~/f')).trim(), 'content-3')
    await waitViews(name, 'v2 v3 v4 v6 v7')
    assert.equal(viewMounts(id).length, 6, 'no mounts left from before the restore')
    assert.equal(checkpointLoops(id).length, 5, 'no loop devices left from before the restore')
    assert.equal(
      (await sh(conn, name, 'cat /.sprite/checkpoints/v7/home/sprite/f')).trim(),
      'content-7',
    )

    await deleteSprite(conn, name)
    names.splice(names.indexOf(name), 1)
    await waitUntil(
      () => viewMounts(id).length === 0 && checkpointLoops(id).length === 0,
      10_000,
      'no mount or loop device of the deleted sprite is left',
    )
  })

  test('a warm sprite is checkpointed without waking it and restores to that state', {
    timeout: 120_000,
  }, async () => {
    const name = uniqueName('ck-warm')
    names.push(name)
    const { id } = await createSprite(conn, name)
    const loop = 'i=0; while :; do i=$((i+1)); echo $i > ~/count; sync ~/count; sleep 0.02; done'
    const session = await startDetached(conn, name, ['sh', '-c', loop])
    session.close()
    await waitUntil(async () => (await status(name)) === 'warm', 15_000, 'the sprite goes warm')
    const frozenCount = counterOf(id)
    assert.ok(frozenCount > 0, 'the writer ran before the freeze')

    const started = performance.now()
    const v1 = await checkpoint(name)
    const ms = performance.now() - started
    assert.equal(v1, 'v1')
    assert.ok(ms < 5_000, `checkpoint of a frozen sprite took ${Math.round(ms)} ms`)
    assert.equal(await status(name), 'warm', 'checkpointing does not wake a warm sprite')
    assert.equal(freezerState(id), 'FROZEN')
    const image = join(E2E_DATA_DIR, 'pool', 'checkpoints', id, 'v1.ext4')
    const fsck = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' })
    assert.equal(fsck.status, 0, `e2fsck of the warm checkpoint: ${fsck.stdout}${fsck.stderr}`)

    await sh(conn, name, 'echo changed > ~/marker')
    const later = Number((await sh(conn, name, 'cat ~/count')).trim())
    assert.ok(later >= frozenCount, 'the writer resumed after the thaw')
    await waitUntil(async () => (await status(name)) === 'warm', 15_000, 'warm again')

    await restore(name, 'v1')
    await waitUntil(async () => (await status(name)) !== 'cold', 10_000, 'boots after restore')
    assert.equal((await sh(conn, name, 'cat ~/count')).trim(), String(frozenCount))
    const marker = await execWS(conn, name, ['test', '-e', '/home/sprite/marker'])
    assert.notEqual(marker.code, 0, 'the file written after the checkpoint is gone')
    await waitViews(name, 'v1')
  })
})

function counterOf(spriteID: string): number {
  const file = join(E2E_DATA_DIR, 'mnt', spriteID, 'root', 'home', 'sprite', 'count')
  return Number(readFileSync(file, 'utf8').trim())
}

function freezerState(spriteID: string): string {
  const file = join('/sys/fs/cgroup/freezer/sprites', sandboxIDOf(spriteID), 'freezer.state')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return 'absent'
  }
}
