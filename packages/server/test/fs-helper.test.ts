// The in-sprite fs helper (packages/runtime/sprite-bin/sprite-fs) and the host side that drives
// it, with a fake sandbox that runs the helper as a local process in a temp dir.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { after, describe, test } from 'node:test'
import { type SandboxProcess, SPRITE_BIN_SOURCE_DIR, type SpawnOptions } from '@sprites/runtime'
import { isFsError } from '../src/fs/fs-errors.ts'
import {
  type FsSandbox,
  HelperRead,
  helperAnswer,
  pipeWrite,
  spawnFsHelper,
} from '../src/fs/fs-helper.ts'
import { parseFsMode, parseFsRange, resolveFsPath } from '../src/fs/fs-params.ts'

const HELPER = join(SPRITE_BIN_SOURCE_DIR, 'sprite-fs')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Runs the helper on the host (identity ignored), shaped like an agent process. */
class LocalSandbox implements FsSandbox {
  async spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    const child = spawn(HELPER, opts.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    const proc = new EventEmitter() as SandboxProcess & EventEmitter
    Object.assign(proc, {
      pid: child.pid ?? 0,
      write: (d: Buffer) => child.stdin.write(d),
      endStdin: () => child.stdin.end(),
      resize: () => undefined,
      signal: (n: number) => child.kill(n),
    })
    child.stdin.on('error', () => undefined)
    child.stdout.on('data', (d: Buffer) => proc.emit('stdout', d))
    child.stderr.on('data', (d: Buffer) => proc.emit('stderr', d))
    child.on('close', (code, sig) => proc.emit('exit', code ?? 128, sig ? 9 : null))
    return proc
  }
}

const sandbox = new LocalSandbox()
const dir = mkdtempSync(join(tmpdir(), 'fs-helper-'))
after(() => rmSync(dir, { recursive: true, force: true }))

async function run(op: string, args: Record<string, unknown>) {
  const proc = await spawnFsHelper(sandbox, op, args, false)
  proc.endStdin()
  return helperAnswer(proc, String(args.path ?? ''))
}

describe('fs params', () => {
  test('paths resolve against workingDir, default /home/sprite', () => {
    assert.equal(resolveFsPath('a/b', undefined), '/home/sprite/a/b')
    assert.equal(resolveFsPath('../x', '/tmp/w'), '/tmp/x')
    assert.equal(resolveFsPath('/etc/hosts', '/tmp'), '/etc/hosts')
    assert.equal(resolveFsPath('f', 'rel'), '/home/sprite/rel/f')
    assert.throws(
      () => resolveFsPath('', '/'),
      (e) => isFsError(e) && e.code === 'EINVAL',
    )
  })
  test('modes are octal strings of 3-4 digits', () => {
    assert.equal(parseFsMode('0644'), 0o644)
    assert.equal(parseFsMode('755'), 0o755)
    assert.equal(parseFsMode(undefined), undefined)
    assert.throws(() => parseFsMode('999'))
  })
  test('ranges: header forms and start/end (end inclusive)', () => {
    const q = new URLSearchParams()
    assert.deepEqual(parseFsRange('bytes=2-5', q), { start: 2, end: 6 })
    assert.deepEqual(parseFsRange('bytes=7-', q), { start: 7 })
    assert.deepEqual(parseFsRange('bytes=-3', q), { suffix: 3 })
    assert.equal(parseFsRange('bytes=1-2,4-5', q), null)
    assert.deepEqual(parseFsRange(undefined, new URLSearchParams('start=1&end=1')), {
      start: 1,
      end: 2,
    })
    assert.equal(parseFsRange(undefined, q), null)
  })
})

describe('sprite-fs helper', () => {
  test('write then list, with errors as {error, code, path}', async () => {
    const path = join(dir, 'sub/deep/f.txt')
    const body = Readable.from([Buffer.from('abc'), Buffer.from('def')])
    const proc = await spawnFsHelper(sandbox, 'write', { path, mode: 0o600 }, false)
    assert.deepEqual(await pipeWrite(proc, body, path), { path, size: 6, mode: '0600' })
    const list = await run('list', { path: join(dir, 'sub'), recursive: true })
    assert.deepEqual(
      (list.entries as { name: string }[]).map((e) => e.name),
      ['deep', 'deep/f.txt'],
    )
    await assert.rejects(run('list', { path: join(dir, 'none') }), (e) => {
      assert.ok(isFsError(e))
      assert.equal(e.code, 'ENOENT')
      assert.equal(e.status, 404)
      assert.equal(e.path, join(dir, 'none'))
      return true
    })
    await assert.rejects(run('delete', { path: join(dir, 'sub') }), /ENOTEMPTY/)
  })

  test('a 12 MiB write streams with acks and arrives intact', async () => {
    const data = randomBytes(12 << 20)
    const path = join(dir, 'big.bin')
    const chunks = Array.from({ length: 48 }, (_, i) => data.subarray(i << 18, (i + 1) << 18))
    const proc = await spawnFsHelper(sandbox, 'write', { path, size: data.length }, false)
    const answer = await pipeWrite(proc, Readable.from(chunks), path)
    assert.equal(answer.size, data.length)
    assert.equal(sha(readFileSync(path)), sha(data))
  })

  test('a read stops after its window until the sink flushes', async () => {
    const data = randomBytes(10 << 20)
    const path = join(dir, 'read.bin')
    writeFileSync(path, data)
    const reader = new HelperRead(await spawnFsHelper(sandbox, 'read', { path }, false), path)
    assert.deepEqual(await reader.header, { size: data.length, start: 0, end: data.length })
    const got: Buffer[] = []
    let release: (() => void) | undefined
    const gate = new Promise<void>((r) => {
      release = r
    })
    const sink = new Writable({
      highWaterMark: 64 << 20,
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk)
        void gate.then(() => cb())
      },
    })
    const done = reader.pipeTo(sink)
    await new Promise((r) => setTimeout(r, 300))
    const held = got.reduce((n, b) => n + b.length, 0)
    assert.ok(held <= 5 << 20, `only the window is sent while nothing flushes (${held} bytes)`)
    release?.()
    await done
    assert.equal(sha(Buffer.concat(got)), sha(data))
  })

  test('ranged reads and an unsatisfiable range', async () => {
    const path = join(dir, 'r.txt')
    writeFileSync(path, '0123456789')
    const read = async (args: Record<string, unknown>) => {
      const r = new HelperRead(await spawnFsHelper(sandbox, 'read', { path, ...args }, false), path)
      const head = await r.header
      const parts: Buffer[] = []
      await r.pipeTo(
        new Writable({
          write: (c: Buffer, _e, cb) => {
            parts.push(c)
            cb()
          },
        }),
      )
      return { head, text: Buffer.concat(parts).toString() }
    }
    assert.equal((await read({ start: 2, end: 6, ranged: true })).text, '2345')
    assert.equal((await read({ suffix: 3, ranged: true })).text, '789')
    const past = read({ start: 10, ranged: true })
    await assert.rejects(past, (e) => isFsError(e) && e.status === 416)
  })
})
