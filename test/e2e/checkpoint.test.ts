// Checkpoints end to end (sprites-api.md §6, X1, X2): exact contents back after a restore, older
// restores, undo of a restore, fork, cold sprites, space, consistency under writes, errors, leaks.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import {
  api,
  type Conn,
  countsOf,
  createSprite,
  deleteAll,
  instanceResources,
  sh,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import { E2E_DATA_DIR, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const POOL = `${E2E_DATA_DIR}/pool`

interface Ckpt {
  id: string
  create_time: string
  comment?: string
  source_id?: string
  history?: string[]
  is_auto: boolean
  health: string
  exclusive_bytes: number
  shared_bytes: number
}

/** A tree of many files with varied modes, owners and symlinks, and a script hashing all of it. */
const MAKE_TREE = `set -e; mkdir -p ~/t/sub ~/t/other
for i in $(seq 1 300); do head -c $((i * 37)) /dev/urandom > ~/t/sub/f$i; done
chmod 600 ~/t/sub/f1; chmod 755 ~/t/sub/f2; chmod 4711 ~/t/sub/f3
ln -s sub/f10 ~/t/link; ln -s /nonexistent ~/t/dangling
sudo chown 0:0 ~/t/sub/f4; sudo chown 1234:4321 ~/t/sub/f5; sudo chown -h 77:77 ~/t/link
echo hello > ~/t/other/keep.txt`
const HASH_TREE = `cd ~/t && { find . -printf '%p %m %U %G %l %s\\n' | sort; find . -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum`
const MANGLE_TREE = `set -e; cd ~/t; rm -f sub/f1* link; chmod 644 sub/f2; echo changed > other/keep.txt
sudo chown 1001:1001 sub/f4; rm -rf other; mkdir newdir; head -c 5000 /dev/urandom > sub/f20`

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('checkpoints', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []
  let baseline: Record<string, number>
  const path = (name: string, rest = '') => `/v1/sprites/${name}${rest}`

  async function newSprite(prefix: string, extra: Record<string, unknown> = {}) {
    const name = uniqueName(prefix)
    names.push(name)
    return { name, info: await createSprite(conn, name, extra) }
  }
  async function checkpoint(name: string, comment?: string): Promise<string> {
    const r = await api(conn, 'POST', path(name, '/checkpoint'), {
      body: comment ? { comment } : {},
      timeoutMs: 60_000,
    })
    assert.equal(r.status, 200, r.text)
    assert.match(r.headers.get('content-type') ?? '', /application\/x-ndjson/)
    const events = ndjson(r.text)
    assert.deepEqual(
      events.map((e) => e.type),
      ['info', 'info', 'complete'],
    )
    assert.equal(events[0]?.data, 'Creating checkpoint...')
    assert.equal(events[1]?.data, 'Saving filesystem state...')
    const last = events[2] as { data: string; id: string }
    assert.equal(last.data, `Checkpoint ${last.id} created successfully`)
    return last.id
  }
  async function restore(name: string, id: string): Promise<void> {
    const r = await api(conn, 'POST', path(name, `/checkpoints/${id}/restore`), {
      timeoutMs: 60_000,
    })
    assert.equal(r.status, 200, r.text)
    const events = ndjson(r.text)
    assert.deepEqual(
      events.map((e) => [e.type, e.data]),
      [
        ['info', `Restoring checkpoint ${id.replace(/^(\d+)$/, 'v$1')}...`],
        ['info', 'Restore complete'],
        ['complete', 'Environment restarting'],
      ],
    )
  }
  async function list(name: string, query = ''): Promise<Ckpt[]> {
    const r = await api(conn, 'GET', path(name, `/checkpoints${query}`))
    assert.equal(r.status, 200, r.text)
    return r.json as Ckpt[]
  }
  const status = async (name: string) =>
    ((await api(conn, 'GET', path(name))).json as { status: string }).status

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    baseline = countsOf(await instanceResources())
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('write → checkpoint → change and delete → restore gives the exact tree back', async () => {
    const { name } = await newSprite('ck-tree')
    await sh(conn, name, MAKE_TREE)
    const before = await sh(conn, name, HASH_TREE)
    const v1 = await checkpoint(name, 'tree')
    assert.equal(v1, 'v1')
    await sh(conn, name, MANGLE_TREE)
    assert.notEqual(await sh(conn, name, HASH_TREE), before)
    await restore(name, v1)
    assert.equal(await sh(conn, name, HASH_TREE), before)
    const c = (await api(conn, 'GET', path(name, '/checkpoints/1'))).json as Ckpt
    assert.equal(c.id, 'v1')
    assert.equal(c.comment, 'tree')
    assert.equal(c.source_id, 'v0')
    assert.deepEqual(c.history, ['v0'])
    assert.equal(c.is_auto, false)
    assert.equal(c.health, '')
    assert.ok(c.shared_bytes > 0 && c.exclusive_bytes >= 0, JSON.stringify(c))
    assert.ok(!Number.isNaN(Date.parse(c.create_time)))
  })

  test('older restore after newer ones, undo through the auto checkpoint, lineage', async () => {
    const { name } = await newSprite('ck-undo')
    await sh(conn, name, 'echo 1 > ~/m')
    const a = await checkpoint(name)
    await sh(conn, name, 'echo 2 > ~/m')
    const b = await checkpoint(name)
    await sh(conn, name, 'echo 3 > ~/m')
    const c = await checkpoint(name)
    assert.deepEqual([a, b, c], ['v1', 'v2', 'v3'])
    await sh(conn, name, 'echo 4 > ~/m')
    await restore(name, a)
    assert.equal((await sh(conn, name, 'cat ~/m')).trim(), '1')
    const visible = await list(name)
    assert.deepEqual(
      visible.map((x) => x.id),
      ['v3', 'v2', 'v1', 'v0'],
    )
    const all = await list(name, '?includeAuto=true')
    const auto = all.find((x) => x.is_auto)
    assert.ok(auto, JSON.stringify(all))
    assert.match(auto.id, /^auto-\d+$/)
    await restore(name, auto.id)
    assert.equal((await sh(conn, name, 'cat ~/m')).trim(), '4')
    await restore(name, b)
    assert.equal((await sh(conn, name, 'cat ~/m')).trim(), '2')
    const d = await checkpoint(name)
    assert.equal(d, 'v4')
    const v4 = (await api(conn, 'GET', path(name, '/checkpoints/v4'))).json as Ckpt
    assert.equal(v4.source_id, 'v2')
    assert.deepEqual(v4.history, ['v2', 'v1', 'v0'])
    const h = await list(name, '?history=v2')
    assert.deepEqual(
      h.map((x) => x.id),
      ['v4', 'v3', 'v2'],
    )
    // The restored checkpoint and v0 are protected; others can go, numbers are not reused.
    const cur = await api(conn, 'DELETE', path(name, '/checkpoints/v2'))
    assert.equal(cur.status, 409, cur.text)
    assert.equal((cur.json as { error: string }).error, 'conflict')
    assert.equal((await api(conn, 'DELETE', path(name, '/checkpoints/v0'))).status, 409)
    assert.equal((await api(conn, 'DELETE', path(name, '/checkpoints/Current'))).status, 409)
    assert.equal((await api(conn, 'POST', path(name, '/checkpoints/Current/restore'))).status, 409)
    assert.equal((await api(conn, 'DELETE', path(name, '/checkpoints/v3'))).status, 204)
    assert.equal((await api(conn, 'DELETE', path(name, '/checkpoints/v3'))).status, 404)
    assert.equal((await api(conn, 'DELETE', path(name, '/checkpoints/v4'))).status, 204)
    assert.equal(await checkpoint(name), 'v5')
  })

  test('bad ids give clear errors', async () => {
    const { name } = await newSprite('ck-bad')
    for (const id of ['v999', 'nope', 'v-1', 'auto-x']) {
      const r = await api(conn, 'GET', path(name, `/checkpoints/${id}`))
      assert.equal(r.status, 404, `${id}: ${r.text}`)
      assert.equal((r.json as { error: string }).error, 'checkpoint_not_found')
      assert.match((r.json as { message: string }).message, /checkpoint not found/)
    }
    const rr = await api(conn, 'POST', path(name, '/checkpoints/v999/restore'))
    assert.equal(rr.status, 404)
    assert.equal((await api(conn, 'GET', path('no-such-sprite-x', '/checkpoints'))).status, 404)
    const bad = await api(conn, 'POST', path(name, '/checkpoint'), { body: { comment: 5 } })
    assert.equal(bad.status, 400)
    assert.equal(await status(name), 'cold', 'nothing here woke the sprite')
  })

  test('a cold sprite is checkpointed and listed without waking it; a restore wakes it', async () => {
    const { name } = await newSprite('ck-cold')
    assert.equal(await status(name), 'cold')
    const v1 = await checkpoint(name)
    assert.equal(v1, 'v1')
    assert.equal((await list(name)).length, 2)
    assert.equal(await status(name), 'cold')
    await restore(name, 'v0')
    // Restore is a wake trigger (§11): the sprite boots on the restored disk.
    await waitUntil(async () => (await status(name)) === 'running', 15_000, 'boots after restore')
  })

  test('fork gives an independent sprite, from a checkpoint and from the live state', async () => {
    const { name: a } = await newSprite('ck-src')
    await sh(conn, a, 'echo one > ~/f')
    await checkpoint(a)
    await sh(conn, a, 'echo two > ~/f')
    const b = uniqueName('ck-fork')
    names.push(b)
    const r = await api(conn, 'POST', '/v1/sprites', {
      body: { name: b, from: { sprite: a, checkpoint: 'v1' } },
      timeoutMs: 60_000,
    })
    assert.equal(r.status, 201, r.text)
    assert.equal((r.json as { name: string }).name, b)
    assert.equal((await sh(conn, b, 'cat ~/f')).trim(), 'one')
    assert.deepEqual(
      (await list(b)).map((x) => x.id),
      ['v0'],
    )
    await sh(conn, b, 'echo bee > ~/f; echo only-b > ~/g')
    assert.equal((await sh(conn, a, 'cat ~/f; ls ~/g 2>&1 || true')).includes('two'), true)
    assert.equal((await sh(conn, a, 'test -e ~/g && echo yes || echo no')).trim(), 'no')
    await sh(conn, a, 'echo only-a > ~/h')
    assert.equal((await sh(conn, b, 'test -e ~/h && echo yes || echo no')).trim(), 'no')
    const c = uniqueName('ck-live')
    names.push(c)
    const live = await api(conn, 'POST', '/v1/sprites', {
      body: { name: c, from: { sprite: a } },
      timeoutMs: 60_000,
    })
    assert.equal(live.status, 201, live.text)
    assert.equal((await sh(conn, c, 'cat ~/f ~/h')).trim(), 'two\nonly-a')
    const noSrc = await api(conn, 'POST', '/v1/sprites', {
      body: { name: uniqueName('ck-x'), from: { sprite: 'nope-nope' } },
    })
    assert.equal(noSrc.status, 404)
    assert.equal((noSrc.json as { error: string }).error, 'sprite_not_found')
    const x = uniqueName('ck-x')
    const noCk = await api(conn, 'POST', '/v1/sprites', {
      body: { name: x, from: { sprite: a, checkpoint: 'v77' } },
    })
    assert.equal(noCk.status, 404, noCk.text)
    assert.equal((noCk.json as { error: string }).error, 'checkpoint_not_found')
    assert.equal((await api(conn, 'GET', path(x))).status, 404, 'no half-made sprite is left')
  })

  test('50 checkpoints on one sprite', async () => {
    const { name } = await newSprite('ck-many')
    await sh(conn, name, 'true')
    for (let i = 1; i <= 50; i++) {
      await sh(conn, name, `echo ${i} > ~/n`)
      assert.equal(await checkpoint(name), `v${i}`)
    }
    const all = await list(name)
    assert.equal(all.length, 51)
    assert.equal(all[0]?.id, 'v50')
    await restore(name, 'v17')
    assert.equal((await sh(conn, name, 'cat ~/n')).trim(), '17')
  })

  test('deleting a checkpoint frees its exclusive space', async () => {
    const { info, name } = await newSprite('ck-space')
    await sh(conn, name, 'head -c 100M /dev/urandom > ~/big && sync')
    const id = await checkpoint(name)
    await sh(
      conn,
      name,
      'dd if=/dev/urandom of=$HOME/big bs=1M count=100 conv=notrunc,fsync 2>/dev/null',
    )
    const c = (await api(conn, 'GET', path(name, `/checkpoints/${id}`))).json as Ckpt
    assert.ok(c.exclusive_bytes >= 90 * 2 ** 20, JSON.stringify(c))
    execFileSync('sync')
    const usedBefore = poolUsed()
    assert.equal((await api(conn, 'DELETE', path(name, `/checkpoints/${id}`))).status, 204)
    await waitUntil(() => usedBefore - poolUsed() >= 90 * 2 ** 20, 10_000, 'pool space freed')
    assert.ok(info.id)
  })

  test('a checkpoint taken under continuous writes is a clean fs with every fsynced file whole', async () => {
    const { info, name } = await newSprite('ck-write')
    const writer = `import os
i = 0
log = os.open(os.path.expanduser('~/w.log'), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
os.makedirs(os.path.expanduser('~/w'), exist_ok=True)
while True:
    i += 1
    p = os.path.expanduser('~/w/f%d' % i)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.write(fd, bytes([i % 251]) * 65536)
    os.fsync(fd)
    os.close(fd)
    os.write(log, b'%d\\n' % i)
    os.fsync(log)`
    await sh(conn, name, `cat > ~/writer.py <<'PY'\n${writer}\nPY`)
    const session = await startDetached(conn, name, ['python3', `/home/sprite/writer.py`])
    await waitUntil(
      async () =>
        Number((await sh(conn, name, 'wc -l < ~/w.log 2>/dev/null || echo 0')).trim()) > 50,
      20_000,
      'writer started',
    )
    const id = await checkpoint(name)
    const image = `${POOL}/checkpoints/${info.id}/${id}.ext4`
    const fsck = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' })
    assert.equal(fsck.status, 0, `${fsck.stdout}${fsck.stderr}`)
    await restore(name, id)
    const check = `set -e; n=0; for i in $(cat ~/w.log); do
  s=$(stat -c %s ~/w/f$i); [ "$s" = 65536 ] || { echo "short f$i $s"; exit 1; }
  b=$(head -c 65536 ~/w/f$i | od -v -An -tu1 | tr -s ' \\n' '\\n' | sort -u | grep -v '^$'); [ "$b" = "$((i % 251))" ] || { echo "bad f$i"; exit 1; }
  n=$((n+1)); done; echo $n`
    const whole = Number((await sh(conn, name, check)).trim())
    assert.ok(whole > 50, `${whole} whole files`)
    session.close()
  })

  test('nothing leaks once the sprites are gone', async () => {
    await deleteAll(conn, names.splice(0))
    await waitUntil(
      async () => JSON.stringify(countsOf(await instanceResources())) === JSON.stringify(baseline),
      15_000,
      `resources back to ${JSON.stringify(baseline)}`,
    )
    const dirs = execFileSync('ls', [`${POOL}/checkpoints`], { encoding: 'utf8' }).trim()
    const store = dirs.split('\n').filter(Boolean)
    assert.deepEqual(
      store.filter((d) => !d.startsWith('sprite-')),
      [],
    )
  })
})

function poolUsed(): number {
  const out = execFileSync('df', ['-B1', '--output=used', POOL], { encoding: 'utf8' })
  return Number(out.trim().split('\n').at(-1))
}
