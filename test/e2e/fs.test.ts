// The filesystem API (sprites-api.md §5) against real sprites: through the official
// `sprite.filesystem()` of @fly/sprites, and as raw HTTP for what the SDK does not send.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { api, type Conn, sh } from './api-helpers.ts'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

// biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
type Any = any

/** Asserts that `p` rejects with a FilesystemError of `code`. */
async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: { name: string; code: string }) => {
    assert.equal(err.name, 'FilesystemError')
    assert.equal(err.code, code)
    return true
  })
}

describe('filesystem API', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let conn: Conn
  let client: Any
  let sprite: Any
  let fs: Any
  const names: string[] = []

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
    const name = uniqueName('fs')
    names.push(name)
    sprite = await client.createSprite(name)
    fs = sprite.filesystem('/home/sprite')
  })
  after(async () => {
    for (const n of names) await client?.deleteSprite(n).catch(() => undefined)
    await srv?.stop()
  })

  describe('through @fly/sprites', () => {
    test('a read of a cold sprite wakes it', async () => {
      const name = uniqueName('fscold')
      names.push(name)
      const cold = await client.createSprite(name)
      assert.equal((await client.getSprite(name)).status, 'cold')
      const text = await cold.filesystem().readFile('/home/sprite/.profile', 'utf8')
      assert.match(text, /PATH|bash/)
      assert.equal((await client.getSprite(name)).status, 'running')
      await client.deleteSprite(name)
    })

    test('writeFile/readFile: utf8 and a 5 MB binary buffer', async () => {
      await fs.writeFile('hello.txt', 'héllo wörld\n')
      assert.equal(await fs.readFile('hello.txt', 'utf8'), 'héllo wörld\n')
      const data = randomBytes(5 * 1024 * 1024)
      await fs.writeFile('/home/sprite/bin/blob.bin', data)
      const back: Buffer = await fs.readFile('bin/blob.bin')
      assert.equal(back.length, data.length)
      assert.equal(sha(back), sha(data))
      // Owned by the sprite user inside, mode 0644 by default.
      const owner = await sh(conn, sprite.name, 'stat -c "%U %a" /home/sprite/bin/blob.bin')
      assert.equal(owner.trim(), 'sprite 644')
    })

    test('appendFile, readJSON and writeJSON', async () => {
      await fs.appendFile('log.txt', 'one\n')
      await fs.appendFile('log.txt', 'two\n')
      assert.equal(await fs.readFile('log.txt', 'utf8'), 'one\ntwo\n')
      await fs.writeJSON('conf/app.json', { a: 1, b: [true, 'x'] }, { spaces: 2 })
      assert.deepEqual(await fs.readJSON('conf/app.json'), { a: 1, b: [true, 'x'] })
      assert.match(await fs.readFile('conf/app.json', 'utf8'), /\n {2}"a": 1/)
    })

    test('mkdir recursive, readdir with file types and recursive', async () => {
      await fs.mkdir('tree/a/b', { recursive: true })
      await fs.writeFile('tree/a/b/leaf.txt', 'leaf')
      await fs.writeFile('tree/top.txt', 'top')
      const names = await fs.readdir('tree')
      assert.deepEqual(names, ['a', 'top.txt'])
      const typed = await fs.readdir('tree', { withFileTypes: true })
      assert.equal(typed.find((d: Any) => d.name === 'a').isDirectory(), true)
      assert.equal(typed.find((d: Any) => d.name === 'top.txt').isFile(), true)
      const all = await fs.readdir('tree', { recursive: true })
      assert.deepEqual(all, ['a', 'a/b', 'a/b/leaf.txt', 'top.txt'])
      assert.equal(await fs.exists('tree/a/b'), true)
      assert.equal(await fs.exists('tree/a/b/.keep'), false)
    })

    test('stat: size, mode, mtime, file or directory; exists', async () => {
      const before = Date.now()
      await fs.writeFile('stat.txt', 'twelve bytes', { mode: 0o600 })
      const st = await fs.stat('stat.txt')
      assert.equal(st.size, 12)
      assert.equal(st.mode & 0o777, 0o600)
      assert.ok(Math.abs(st.mtime.getTime() - before) < 60_000, `mtime ${st.mtime.toISOString()}`)
      assert.equal(st.isFile(), true)
      assert.equal(st.isDirectory(), false)
      assert.equal(await fs.exists('stat.txt'), true)
      assert.equal(await fs.exists('missing.txt'), false)
      await rejectsWith(fs.stat('missing.txt'), 'ENOENT')
    })

    test('rename, copyFile, chmod', async () => {
      await fs.writeFile('orig.txt', 'content')
      await fs.rename('orig.txt', 'moved.txt')
      assert.equal(await fs.exists('orig.txt'), false)
      await fs.copyFile('moved.txt', 'copy.txt')
      assert.equal(await fs.readFile('copy.txt', 'utf8'), 'content')
      await fs.copyFile('tree', 'tree2', { recursive: true })
      assert.equal(await fs.readFile('tree2/a/b/leaf.txt', 'utf8'), 'leaf')
      await fs.chmod('copy.txt', 0o755)
      assert.equal((await fs.stat('copy.txt')).mode & 0o777, 0o755)
    })

    test('chown needs asRoot; rm recursive and force', async () => {
      await fs.writeFile('owned.txt', 'x')
      await rejectsWith(fs.chown('owned.txt', { uid: 0, gid: 0 }), 'EPERM')
      await fs.chown('owned.txt', { uid: 0, gid: 0, asRoot: true })
      const owner = await sh(conn, sprite.name, 'stat -c %U:%G /home/sprite/owned.txt')
      assert.equal(owner.trim(), 'root:root')
      await rejectsWith(fs.rm('tree2'), 'ENOTEMPTY')
      await fs.rm('tree2', { recursive: true })
      assert.equal(await fs.exists('tree2'), false)
      await fs.rm('never-there', { force: true })
      await rejectsWith(fs.rm('never-there'), 'ENOENT')
    })

    test('errors: EACCES for the sprite user, asRoot writes where it may not', async () => {
      await rejectsWith(fs.writeFile('/root/nope.txt', 'x'), 'EACCES')
      await rejectsWith(fs.readFile('/etc/shadow'), 'EACCES')
      await rejectsWith(fs.writeFile('/etc/shadow', 'x'), 'EACCES')
      await rejectsWith(fs.readFile('/no/such/file'), 'ENOENT')
      // asRoot is not an option of the SDK's write; raw HTTP shows it.
      const r = await api(
        conn,
        'PUT',
        `/v1/sprites/${sprite.name}/fs/write?path=/root/yes.txt&asRoot=true`,
        {
          rawBody: 'root',
        },
      )
      assert.equal(r.status, 200)
      assert.equal(await sh(conn, sprite.name, 'sudo cat /root/yes.txt'), 'root')
    })
  })

  describe('raw HTTP', () => {
    const fsPath = (op: string, q = '') => `/v1/sprites/${sprite.name}/fs/${op}${q}`

    test('Range and start/end give 206 with Content-Range', async () => {
      await api(conn, 'PUT', fsPath('write', '?path=range.txt'), { rawBody: '0123456789' })
      const r = await api(conn, 'GET', fsPath('read', '?path=range.txt'), {
        headers: { range: 'bytes=2-5' },
      })
      assert.equal(r.status, 206)
      assert.equal(r.text, '2345')
      assert.equal(r.headers.get('content-range'), 'bytes 2-5/10')
      const tail = await api(conn, 'GET', fsPath('read', '?path=range.txt'), {
        headers: { range: 'bytes=-3' },
      })
      assert.equal(tail.text, '789')
      const q = await api(conn, 'GET', fsPath('read', '?path=range.txt&start=7&end=8'))
      assert.equal(q.status, 206)
      assert.equal(q.text, '78')
      const full = await api(conn, 'GET', fsPath('read', '?path=/home/sprite/range.txt'))
      assert.equal(full.status, 200)
      assert.equal(full.headers.get('content-type'), 'application/octet-stream')
      assert.equal(full.text, '0123456789')
      const past = await api(conn, 'GET', fsPath('read', '?path=range.txt'), {
        headers: { range: 'bytes=50-' },
      })
      assert.equal(past.status, 416)
    })

    test('write answers path, size and mode; mkdir=false does not create parents', async () => {
      const ok = await api(conn, 'PUT', fsPath('write', '?path=w/x.sh&workingDir=/tmp&mode=0750'), {
        rawBody: '#!/bin/sh\n',
      })
      assert.equal(ok.status, 200)
      assert.deepEqual(ok.json, { path: '/tmp/w/x.sh', size: 10, mode: '0750' })
      const no = await api(conn, 'PUT', fsPath('write', '?path=/tmp/nodir/x&mkdir=false'), {
        rawBody: 'x',
      })
      assert.equal(no.status, 404)
      assert.equal((no.json as { code: string }).code, 'ENOENT')
      const no2 = await api(conn, 'PUT', fsPath('write', '?path=/tmp/nodir/x&mkdirParents=false'), {
        rawBody: 'x',
      })
      assert.equal(no2.status, 404)
    })

    test('list on a file is one entry; missing is 404 with the fs error shape', async () => {
      const r = await api(conn, 'GET', fsPath('list', '?path=range.txt'))
      assert.equal(r.status, 200)
      const body = r.json as { path: string; count: number; entries: Record<string, unknown>[] }
      assert.equal(body.count, 1)
      const e = body.entries[0] ?? {}
      assert.equal(e.name, 'range.txt')
      assert.equal(e.path, '/home/sprite/range.txt')
      assert.equal(e.type, 'file')
      assert.equal(e.size, 10)
      assert.equal(e.mode, '0644')
      assert.equal(e.isDir, false)
      assert.ok(!Number.isNaN(Date.parse(String(e.modTime))))
      const missing = await api(conn, 'GET', fsPath('list', '?path=/nope/nothing'))
      assert.equal(missing.status, 404)
      assert.deepEqual(Object.keys(missing.json as object).sort(), ['code', 'error', 'path'])
      assert.equal((missing.json as { path: string }).path, '/nope/nothing')
    })

    test('delete reads its parameters from a JSON body; 409 ENOTEMPTY, 404 ENOENT', async () => {
      await api(conn, 'PUT', fsPath('write', '?path=del/a/b.txt'), { rawBody: 'b' })
      const busy = await api(conn, 'DELETE', fsPath('delete'), {
        body: { path: 'del', workingDir: '/home/sprite' },
      })
      assert.equal(busy.status, 409)
      assert.equal((busy.json as { code: string }).code, 'ENOTEMPTY')
      const ok = await api(conn, 'DELETE', fsPath('delete'), {
        body: { path: 'del', workingDir: '/home/sprite', recursive: true },
      })
      assert.equal(ok.status, 200)
      const res = ok.json as { deleted: string[]; count: number }
      assert.equal(res.count, 3)
      assert.ok(res.deleted.includes('/home/sprite/del/a/b.txt'))
      const gone = await api(conn, 'DELETE', fsPath('delete'), {
        body: { path: '/home/sprite/del' },
      })
      assert.equal(gone.status, 404)
      assert.equal((gone.json as { code: string }).code, 'ENOENT')
    })

    test('copy, chmod and chown answers', async () => {
      await api(conn, 'PUT', fsPath('write', '?path=c/src.txt'), { rawBody: 'abc' })
      const cp = await api(conn, 'POST', fsPath('copy'), {
        body: { source: 'c/src.txt', dest: 'c/dst.txt', workingDir: '/home/sprite' },
      })
      assert.deepEqual(cp.json, {
        copied: [{ source: '/home/sprite/c/src.txt', dest: '/home/sprite/c/dst.txt' }],
        count: 1,
        totalBytes: 3,
      })
      const ch = await api(conn, 'POST', fsPath('chmod'), {
        body: { path: 'c', workingDir: '/home/sprite', mode: '0700', recursive: true },
      })
      assert.equal((ch.json as { count: number }).count, 3)
      const own = await api(conn, 'POST', fsPath('chown'), {
        body: { path: '/home/sprite/c/dst.txt', uid: '0', gid: null, asRoot: true },
      })
      assert.deepEqual(own.json, {
        affected: [{ path: '/home/sprite/c/dst.txt', uid: 0, gid: 1001 }],
        count: 1,
      })
      const bad = await api(conn, 'POST', fsPath('chmod'), { body: { path: 'c', mode: 'rwx' } })
      assert.equal(bad.status, 400)
      assert.equal((bad.json as { code: string }).code, 'EINVAL')
    })

    test('an unknown sprite is the ordinary 404', async () => {
      const r = await api(conn, 'GET', '/v1/sprites/no-such-sprite/fs/list?path=/')
      assert.equal(r.status, 404)
      assert.equal((r.json as { error: string }).error, 'sprite_not_found')
    })
  })
})
