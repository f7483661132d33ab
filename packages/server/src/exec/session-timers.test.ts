import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, mock, test } from 'node:test'
import type { SandboxProcess } from '@sprites/runtime'
import { PausableTimer } from './pausable-timer.ts'
import { type ExecClient, ExecSession } from './session.ts'
import { SessionRegistry } from './session-registry.ts'

class FakeProcess extends EventEmitter implements SandboxProcess {
  readonly pid = 7
  signals: number[] = []
  write(): void {}
  endStdin(): void {}
  resize(): void {}
  signal(signo: number): void {
    this.signals.push(signo)
  }
}

const client: ExecClient = { output() {}, exit() {}, abort() {} }

// A manual clock: `advance` moves the injected `now` and the mocked setTimeout together.
let clock = 0
const now = () => clock
function advance(ms: number): void {
  clock += ms
  mock.timers.tick(ms)
}
beforeEach(() => {
  clock = 0
  mock.timers.enable({ apis: ['setTimeout'] })
})
afterEach(() => mock.timers.reset())

function detachedSession(registry: SessionRegistry, mrad = 1000, killGraceMs = 100) {
  const p = new FakeProcess()
  const s = new ExecSession({
    id: registry.allocate(),
    process: p,
    command: 'sleep 100',
    workdir: '/',
    tty: null,
    maxRunAfterDisconnectMs: mrad,
    killGraceMs,
    now,
  })
  registry.add(s)
  s.attach(client, false)
  s.detach(client)
  return { p, s }
}

test('PausableTimer keeps the time left across a pause', () => {
  let fired = 0
  const t = new PausableTimer(() => fired++, 100, { now })
  advance(60)
  t.pause()
  assert.equal(t.remainingMs, 40)
  advance(1000)
  assert.equal(fired, 0)
  t.resume()
  advance(39)
  assert.equal(fired, 0)
  advance(1)
  assert.equal(fired, 1)
  t.resume()
  advance(1000)
  assert.equal(fired, 1, 'fires once')
  const paused = new PausableTimer(() => fired++, 10, { paused: true, now })
  advance(50)
  assert.equal(paused.running, false)
  paused.cancel()
  paused.resume()
  advance(50)
  assert.equal(fired, 1, 'a cancelled timer never fires')
})

test('max_run_after_disconnect does not count while the sprite is warm', () => {
  const registry = new SessionRegistry({ now })
  const { p } = detachedSession(registry)
  advance(400)
  registry.pauseTimers() // sprite went warm
  advance(10_000)
  assert.deepEqual(p.signals, [], 'no SIGTERM while frozen')
  registry.resumeTimers() // thawed: 600 ms left
  advance(599)
  assert.deepEqual(p.signals, [])
  advance(1)
  assert.deepEqual(p.signals, [15])
  registry.pauseTimers() // warm again during the SIGTERM grace
  advance(10_000)
  assert.deepEqual(p.signals, [15], 'no SIGKILL while frozen')
  registry.resumeTimers()
  advance(100)
  assert.deepEqual(p.signals, [15, 9])
})

test('a session detached or added while warm starts counting at the thaw', () => {
  const registry = new SessionRegistry({ now })
  registry.pauseTimers()
  const { p } = detachedSession(registry)
  advance(5000)
  assert.deepEqual(p.signals, [])
  registry.resumeTimers()
  advance(1000)
  assert.deepEqual(p.signals, [15])
})

test('a sprite going cold leaves the registry counting again', () => {
  const registry = new SessionRegistry({ now })
  registry.pauseTimers()
  registry.abortAll('sprite hibernated')
  const { p } = detachedSession(registry)
  advance(1000)
  assert.deepEqual(p.signals, [15])
})
