import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { Sandbox } from '@sprites/runtime'
import { runRoot } from './root-command.ts'

/** A sandbox whose one helper prints `out` and then exits only when killed. */
function hangingSandbox(out: Buffer) {
  const signals: number[] = []
  const sandbox = {
    async spawn() {
      const p = new EventEmitter() as EventEmitter & Record<string, unknown>
      p.pid = 7
      p.write = () => undefined
      p.endStdin = () => undefined
      p.resize = () => undefined
      p.signal = (signo: number) => {
        signals.push(signo)
        setImmediate(() => p.emit('exit', 128 + signo))
      }
      setImmediate(() => p.emit('stdout', out))
      return p
    },
  } as unknown as Sandbox
  return { sandbox, signals }
}

test('a helper that hangs is killed after the timeout and reported as failed', async () => {
  const { sandbox, signals } = hangingSandbox(Buffer.from('partial\n'))
  const r = await runRoot(sandbox, 'sleep infinity', ['sh'], undefined, { timeoutMs: 50 })
  assert.deepEqual(signals, [9])
  assert.equal(r.code, 137)
  assert.equal(r.stdout, 'partial\n')
  assert.match(r.stderr, /timed out: the helper was killed/)
})

test('output beyond the cap is dropped', async () => {
  const { sandbox } = hangingSandbox(Buffer.alloc(10_000, 0x61))
  const r = await runRoot(sandbox, 'yes', ['sh'], undefined, { timeoutMs: 50, maxOutputBytes: 100 })
  assert.equal(r.stdout, 'a'.repeat(100))
})
