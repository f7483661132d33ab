import assert from 'node:assert/strict'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { noopLogger } from '../logger.ts'
import { LogFile, tailLines } from './log-file.ts'
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
    await a.close()
    const b = new LogFile({ path, log: noopLogger })
    b.write('two\n')
    await b.close()
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n')
    assert.equal(statSync(path).mode & 0o777, 0o644)
  })

  test('rotates to .1 at the limit, losing no line', async (t) => {
    const path = join(tempDir(t), 'noisy.log')
    writeFileSync(path, 'x'.repeat(30))
    const f = new LogFile({ path, log: noopLogger, rotateBytes: 100 })
    const lines = Array.from({ length: 20 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`)
    for (const l of lines) f.write(l)
    await f.close()
    // 30 bytes found + 8 lines of 8 = 94; the 9th would pass 100, so it starts the new file.
    assert.equal(
      readFileSync(`${path}.1`, 'utf8'),
      `${'x'.repeat(30)}${lines.slice(0, 8).join('')}`,
    )
    assert.equal(readFileSync(path, 'utf8'), lines.slice(8).join(''))
  })

  test('a write after close is dropped, not reopened', async (t) => {
    const path = join(tempDir(t), 'a.log')
    const f = new LogFile({ path, log: noopLogger })
    f.write('kept\n')
    await f.close()
    f.write('late\n')
    await f.close()
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
    await f.close()
    assert.equal(readFileSync(path, 'utf8'), 'abcdefgh\n')
  })
})

describe('tailLines', () => {
  test('the last n lines; none for a missing file', async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'x.log')
    writeFileSync(path, 'a\nb\nc\n')
    assert.deepEqual(await tailLines(path, 2), ['b', 'c'])
    assert.deepEqual(await tailLines(path, 10), ['a', 'b', 'c'])
    assert.deepEqual(await tailLines(join(dir, 'missing.log'), 5), [])
  })

  test('reads only the end of a large file and drops the partial first line', async (t) => {
    const path = join(tempDir(t), 'big.log')
    const line = `${'y'.repeat(99)}\n`
    writeFileSync(path, `${'z'.repeat(1000)}\n${line.repeat(50_000)}`)
    const tail = await tailLines(path, 100_000)
    assert.ok(tail.length > 40_000 && tail.length < 50_000, String(tail.length))
    assert.ok(tail.every((l) => l === line.trimEnd()))
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
