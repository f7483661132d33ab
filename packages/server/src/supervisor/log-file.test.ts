import assert from 'node:assert/strict'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { noopLogger } from '../logger.ts'
import { LogFile, type LogSnapshot, snapshotLines } from './log-file.ts'
import { createServiceLogDirs } from './service-log-dirs.ts'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-logfile-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Waits until the file holds `bytes` bytes (the writer's stream is asynchronous). */
async function settled(path: string, bytes: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(path) && statSync(path).size >= bytes) return
    await new Promise((r) => setTimeout(r, 5))
  }
  assert.fail(`${path} never reached ${bytes} bytes`)
}

describe('service log file on the host', () => {
  test('appends after what an earlier writer left and makes its directory', async (t) => {
    const path = join(tempDir(t), 'services', 'web.log')
    const a = new LogFile({ path, log: noopLogger })
    a.write('one\n')
    a.close()
    const b = new LogFile({ path, log: noopLogger })
    b.write('two\n')
    b.close()
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n')
    assert.equal(statSync(path).mode & 0o777, 0o644)
  })

  test('rotates to .1 at the limit, losing no line', async (t) => {
    const path = join(tempDir(t), 'noisy.log')
    writeFileSync(path, 'x'.repeat(30))
    const f = new LogFile({ path, log: noopLogger, rotateBytes: 100 })
    const lines = Array.from({ length: 20 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`)
    for (const l of lines) f.write(l)
    f.close()
    // 30 bytes found + 8 lines of 8 = 94; the 9th would pass 100, so it starts the new file.
    assert.equal(
      readFileSync(`${path}.1`, 'utf8'),
      `${'x'.repeat(30)}${lines.slice(0, 8).join('')}`,
    )
    assert.equal(readFileSync(path, 'utf8'), lines.slice(8).join(''))
  })

  test('a quiet log holds no descriptor; the next line reopens it and appends', async (t) => {
    const path = join(tempDir(t), 'quiet.log')
    const f = new LogFile({ path, log: noopLogger, idleCloseMs: 30 })
    f.write('one\n')
    f.flush()
    assert.equal(f.isOpen, true)
    await new Promise((r) => setTimeout(r, 80))
    assert.equal(f.isOpen, false, 'closed after being idle')
    f.write('two\n')
    f.close()
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n')
  })

  test('files are 0644 whatever the umask', (t) => {
    const path = join(tempDir(t), 'm.log')
    const old = process.umask(0o077)
    try {
      const f = new LogFile({ path, log: noopLogger })
      f.write('x\n')
      f.close()
    } finally {
      process.umask(old)
    }
    assert.equal(statSync(path).mode & 0o777, 0o644)
  })

  test('a write after close is dropped, not reopened', async (t) => {
    const path = join(tempDir(t), 'a.log')
    const f = new LogFile({ path, log: noopLogger })
    f.write('kept\n')
    f.close()
    f.write('late\n')
    f.close()
    assert.equal(readFileSync(path, 'utf8'), 'kept\n')
  })

  test('a log file removed from outside starts over at rotation', async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'gone.log')
    const f = new LogFile({ path, log: noopLogger, rotateBytes: 10 })
    f.write('12345678\n')
    await settled(path, 9)
    rmSync(path)
    f.write('abcdefgh\n')
    f.close()
    assert.equal(readFileSync(path, 'utf8'), 'abcdefgh\n')
  })
})

describe('log snapshots', () => {
  const collect = async (snap: LogSnapshot) => {
    const out: string[] = []
    for await (const l of snapshotLines(snap)) out.push(l)
    return out
  }
  /** Descriptors of this process open on files in `dir` (other tests' files do not count). */
  const openIn = (dir: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`)
      } catch {
        return false
      }
    }).length

  test('hold exactly what was logged until then, pending lines included', async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'web.log')
    const f = new LogFile({ path, log: noopLogger, rotateBytes: 40 })
    for (let i = 0; i < 8; i++) f.write(`line ${i}\n`)
    // Same tick: nothing was flushed yet, the snapshot writes it first.
    const snap = f.snapshot()
    for (let i = 8; i < 20; i++) f.write(`line ${i}\n`)
    f.flush()
    // 8 lines of 7 bytes with a 40-byte limit: .1 has lines 0-4, the file 5-7 when taken; the
    // rotations after it do not change what it reads.
    assert.deepEqual(
      await collect(snap),
      Array.from({ length: 8 }, (_, i) => `line ${i}`),
    )
    f.close()
    assert.equal(openIn(dir), 0, 'its descriptors are closed')
  })

  test('a reader that stops early still closes the files', async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'a.log')
    const f = new LogFile({ path, log: noopLogger })
    f.write('a\nb\nc\n')
    for await (const l of snapshotLines(f.snapshot())) {
      assert.equal(l, 'a')
      break
    }
    f.close()
    assert.equal(openIn(dir), 0)
  })

  test('multi-byte text across read chunks and a last line without newline', async (t) => {
    const path = join(tempDir(t), 'u.log')
    // 65535 ASCII bytes, then a 3-byte character across the 64 KiB chunk boundary.
    writeFileSync(path, `${'a'.repeat(65_535)}€\nend`)
    const f = new LogFile({ path, log: noopLogger })
    assert.deepEqual(await collect(f.snapshot()), [`${'a'.repeat(65_535)}€`, 'end'])
    assert.deepEqual(
      await collect(new LogFile({ path: join(path, 'none'), log: noopLogger }).snapshot()),
      [],
    )
    f.close()
  })
})

describe('service log directories', () => {
  const id = (n: number) => `sprite-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

  test('prepare makes <dataDir>/logs/<id>/services; remove and prune take them away', async (t) => {
    const dataDir = tempDir(t)
    const dirs = createServiceLogDirs({ dataDir, log: noopLogger })
    assert.equal(await dirs.prepare({ id: id(1) }), join(dataDir, 'logs', id(1)))
    assert.equal(dirs.servicesDir(id(1)), join(dataDir, 'logs', id(1), 'services'))
    assert.ok(statSync(dirs.servicesDir(id(1))).isDirectory())
    assert.equal(statSync(join(dataDir, 'logs')).mode & 0o777, 0o700, 'closed to host users')
    assert.equal(statSync(join(dataDir, 'logs', id(1))).mode & 0o777, 0o755, 'readable inside')
    await dirs.prepare({ id: id(2) })
    await dirs.prepare({ id: id(3) })
    mkdirSync(join(dataDir, 'logs', 'not-a-sprite'))

    await dirs.remove(id(1))
    assert.equal(existsSync(join(dataDir, 'logs', id(1))), false)
    await dirs.prune(async (spriteID) => spriteID === id(2))
    assert.ok(existsSync(join(dataDir, 'logs', id(2))))
    assert.equal(existsSync(join(dataDir, 'logs', id(3))), false)
    assert.ok(existsSync(join(dataDir, 'logs', 'not-a-sprite')), 'only sprite ids are pruned')
  })

  test('only sprite ids become paths', async (t) => {
    const dirs = createServiceLogDirs({ dataDir: tempDir(t), log: noopLogger })
    assert.throws(() => dirs.servicesDir('../../etc'), /not a sprite id/)
    await assert.rejects(dirs.remove('../x'), /not a sprite id/)
    // prepare never throws (the sprite boots without the bind): it reports undefined.
    assert.equal(await dirs.prepare({ id: '../x' }), undefined)
  })

  test('prune without a logs directory is a no-op', async (t) => {
    const dirs = createServiceLogDirs({ dataDir: join(tempDir(t), 'nothing'), log: noopLogger })
    await dirs.prune(async () => false)
  })
})
