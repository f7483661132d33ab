// The filesystem watch (F9): the in-sprite watcher (packages/runtime/sprite-bin/sprite-fswatch)
// run locally in a temp dir, bound to a fake WebSocket through the host side (fs-watch.ts).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { type SandboxProcess, SPRITE_BIN_SOURCE_DIR, type SpawnOptions } from '@sprites/runtime'
import type { WebSocket } from 'ws'
import {
  bindWatch,
  type FsWatchSandbox,
  spawnFsWatcher,
  WATCH_MAX_BUFFERED,
  watchCommand,
  watchMessage,
} from '../src/fs/fs-watch.ts'
import { noopLogger } from '../src/logger.ts'

const WATCHER = join(SPRITE_BIN_SOURCE_DIR, 'sprite-fswatch')
type Msg = Record<string, unknown>

/** Runs the watcher on the host, shaped like an agent process; `exit` when `stop()` is called. */
class LocalSandbox extends EventEmitter implements FsWatchSandbox {
  readonly children: { pid: number; exited: boolean }[] = []
  readonly env: Record<string, string>
  constructor(env: Record<string, string> = {}) {
    super()
    this.env = env
  }
  async spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    const child = spawn(WATCHER, opts.argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    })
    const state = { pid: child.pid ?? 0, exited: false }
    this.children.push(state)
    const proc = new EventEmitter() as SandboxProcess & EventEmitter
    Object.assign(proc, {
      pid: state.pid,
      write: (d: Buffer) => child.stdin.write(d),
      endStdin: () => child.stdin.end(),
      resize: () => undefined,
      signal: (n: number) => child.kill(n),
    })
    child.stdin.on('error', () => undefined)
    child.stdout.on('data', (d: Buffer) => proc.emit('stdout', d))
    child.stderr.on('data', (d: Buffer) => proc.emit('stderr', d))
    child.on('close', (code) => {
      state.exited = true
      proc.emit('exit', code ?? 128, null)
    })
    return proc
  }
}

/** The part of a `ws` WebSocket that bindWatch uses; `sent` holds the parsed frames. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1
  readonly CONNECTING = 0
  readyState = 1
  bufferedAmount = 0
  closeCode = 0
  readonly sent: Msg[] = []
  send(s: string) {
    this.sent.push(JSON.parse(s) as Msg)
  }
  ping() {}
  terminate() {
    this.close(1006, '')
  }
  close(code: number, _reason?: string) {
    if (this.readyState !== 1) return
    this.readyState = 3
    this.closeCode = code
    this.emit('close', code)
  }
  frame(msg: unknown) {
    this.emit('message', Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)), false)
  }
  async until(pred: (m: Msg) => boolean, what: string): Promise<Msg> {
    const deadline = Date.now() + 5000
    for (;;) {
      const m = this.sent.find(pred)
      if (m) return m
      if (Date.now() > deadline) throw new Error(`${what}: got ${JSON.stringify(this.sent)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

const log = noopLogger
const root = mkdtempSync(join(tmpdir(), 'fs-watch-'))
after(() => rmSync(root, { recursive: true, force: true }))
const ev = (event: string, path: string) => (m: Msg) =>
  m.type === 'event' && m.event === event && m.path === path
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function open(sandbox = new LocalSandbox()) {
  const ws = new FakeSocket()
  const proc = await spawnFsWatcher(sandbox, false)
  bindWatch(ws as unknown as WebSocket, proc, sandbox, log)
  return { ws, sandbox }
}

describe('fs watch messages', () => {
  test('client frames become watcher commands with absolute paths', () => {
    assert.deepEqual(
      watchCommand('{"type":"subscribe","paths":["a","/b"],"recursive":true,"workingDir":"/w"}'),
      { cmd: { cmd: 'subscribe', paths: ['/w/a', '/b'], recursive: true } },
    )
    assert.deepEqual(watchCommand('{"type":"unsubscribe","paths":["x"]}'), {
      cmd: { cmd: 'unsubscribe', paths: ['/home/sprite/x'], recursive: false },
    })
    assert.match((watchCommand('nope') as { error: string }).error, /JSON/)
    assert.match((watchCommand('{"type":"x"}') as { error: string }).error, /unknown/)
    assert.match((watchCommand('{"type":"subscribe"}') as { error: string }).error, /paths/)
  })

  test('watcher lines keep only the wire fields', () => {
    assert.deepEqual(
      watchMessage('{"type":"event","event":"write","path":"/a","timestamp":"t","size":3,"x":1}'),
      { type: 'event', event: 'write', path: '/a', timestamp: 't', size: 3, isDir: false },
    )
    assert.equal(watchMessage('{"type":"event","event":"boom"}'), null)
    assert.equal(watchMessage('garbage'), null)
  })
})

describe('fs watch against a local watcher', () => {
  test('create, write, rename, remove, recursive, unsubscribe, close', async () => {
    const dir = join(root, 'a')
    mkdirSync(dir)
    const { ws, sandbox } = await open()
    ws.frame({ type: 'subscribe', paths: [dir], recursive: true })
    assert.deepEqual(await ws.until((m) => m.type === 'subscribed', 'subscribed'), {
      type: 'subscribed',
      paths: [dir],
    })
    const f = join(dir, 'f.txt')
    writeFileSync(f, 'hello')
    await ws.until(ev('create', f), 'create')
    assert.equal((await ws.until(ev('write', f), 'write')).size, 5)
    renameSync(f, join(dir, 'g.txt'))
    await ws.until(ev('rename', f), 'rename')
    await ws.until(ev('create', join(dir, 'g.txt')), 'rename target')
    mkdirSync(join(dir, 's', 't'), { recursive: true })
    writeFileSync(join(dir, 's', 't', 'deep'), 'x')
    await ws.until(ev('create', join(dir, 's', 't', 'deep')), 'create in a new subdirectory')
    rmSync(join(dir, 'g.txt'))
    await ws.until(ev('remove', join(dir, 'g.txt')), 'remove')
    ws.frame({ type: 'unsubscribe', paths: [dir] })
    await sleep(200)
    writeFileSync(join(dir, 'late'), '')
    await sleep(300)
    assert.equal(ws.sent.filter((m) => String(m.path).endsWith('late')).length, 0)
    ws.close(1000)
    await sleep(200)
    assert.ok(
      sandbox.children.every((c) => c.exited),
      'the watcher ends with the socket',
    )
  })

  test('bursts of writes to one path are coalesced', async () => {
    const dir = join(root, 'burst')
    mkdirSync(dir)
    const { ws } = await open()
    ws.frame({ type: 'subscribe', paths: [dir] })
    await ws.until((m) => m.type === 'subscribed', 'subscribed')
    const f = join(dir, 'log')
    const { openSync, writeSync, closeSync } = await import('node:fs')
    const fd = openSync(f, 'w')
    for (let i = 0; i < 200; i++) writeSync(fd, 'line\n')
    await sleep(300)
    closeSync(fd)
    await sleep(200)
    const writes = ws.sent.filter(ev('write', f)).length
    assert.ok(writes >= 1 && writes <= 3, `${writes} write events for 200 writes`)
    ws.close(1000)
  })

  test('the directory cap is reported; the sandbox stopping closes with 1001', async () => {
    const dir = join(root, 'cap')
    for (let i = 0; i < 5; i++) mkdirSync(join(dir, `d${i}`), { recursive: true })
    const { ws, sandbox } = await open(new LocalSandbox({ SPRITE_FSWATCH_MAX_WATCHES: '3' }))
    ws.frame({ type: 'subscribe', paths: [dir], recursive: true })
    const err = await ws.until((m) => m.type === 'error', 'cap error')
    assert.match(String(err.message), /at most 3 directories/)
    await ws.until((m) => m.type === 'subscribed', 'subscribed')
    sandbox.emit('exit')
    assert.equal(ws.closeCode, 1001)
    await sleep(200)
    assert.ok(sandbox.children.every((c) => c.exited))
  })

  test('a slow client drops events and is told how many', async () => {
    const dir = join(root, 'slow')
    mkdirSync(dir)
    const { ws } = await open()
    ws.frame({ type: 'subscribe', paths: [dir] })
    await ws.until((m) => m.type === 'subscribed', 'subscribed')
    ws.bufferedAmount = WATCH_MAX_BUFFERED + 1
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), '')
    await sleep(300)
    assert.equal(ws.sent.filter((m) => m.type === 'event').length, 0)
    ws.bufferedAmount = 0
    writeFileSync(join(dir, 'after'), '')
    const err = await ws.until((m) => m.type === 'error', 'dropped notice')
    assert.match(String(err.message), /\d+ events dropped/)
    await ws.until(ev('create', join(dir, 'after')), 'events again')
    ws.close(1000)
  })
})
