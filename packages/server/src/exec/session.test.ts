import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { SandboxProcess } from '@sprites/runtime'
import { buildExecEnv, parseExecRequest } from './exec-request.ts'
import { Scrollback } from './scrollback.ts'
import { type ExecClient, ExecSession } from './session.ts'
import { SessionRegistry } from './session-registry.ts'

class FakeProcess extends EventEmitter implements SandboxProcess {
  readonly pid = 42
  signals: number[] = []
  written: Buffer[] = []
  sizes: Array<[number, number]> = []
  stdinEnded = false
  write(d: Buffer): void {
    this.written.push(d)
  }
  endStdin(): void {
    this.stdinEnded = true
  }
  resize(rows: number, cols: number): void {
    this.sizes.push([rows, cols])
  }
  signal(signo: number): void {
    this.signals.push(signo)
  }
}

class RecordingClient implements ExecClient {
  out: Array<[number, string]> = []
  exitCode: number | null = null
  aborted: string | null = null
  output(stream: 1 | 2, data: Buffer): void {
    this.out.push([stream, data.toString()])
  }
  exit(code: number): void {
    this.exitCode = code
  }
  abort(reason: string): void {
    this.aborted = reason
  }
}

function session(opts: { tty?: boolean; mrad?: number } = {}) {
  const p = new FakeProcess()
  const s = new ExecSession({
    id: 1,
    process: p,
    command: 'sh',
    workdir: '/home/sprite',
    tty: opts.tty ? { rows: 24, cols: 80 } : null,
    maxRunAfterDisconnectMs: opts.mrad ?? 0,
    killGraceMs: 20,
  })
  return { p, s }
}

test('output fans out to every client with its stream; attach replays the scrollback', () => {
  const { p, s } = session()
  const a = new RecordingClient()
  s.attach(a, true)
  p.emit('stdout', Buffer.from('one'))
  p.emit('stderr', Buffer.from('two'))
  const b = new RecordingClient()
  s.attach(b, true)
  p.emit('stdout', Buffer.from('three'))
  assert.deepEqual(a.out, [
    [1, 'one'],
    [2, 'two'],
    [1, 'three'],
  ])
  assert.deepEqual(b.out, a.out)
  p.emit('exit', 3, null)
  assert.equal(a.exitCode, 3)
  assert.equal(b.exitCode, 3)
  assert.equal(s.isRunning, false)
})

test('TTY sessions put all output on stream 1 and report their size', () => {
  const { p, s } = session({ tty: true })
  const a = new RecordingClient()
  s.attach(a, false)
  p.emit('stderr', Buffer.from('x'))
  assert.deepEqual(a.out, [[1, 'x']])
  s.resize(40, undefined)
  assert.deepEqual(p.sizes, [[40, 80]])
  assert.equal(s.info(true).rows, 40)
  assert.equal(s.info(false).is_owner, false)
})

test('last client leaving starts max_run_after_disconnect: TERM, then KILL', async () => {
  const { p, s } = session({ mrad: 30 })
  const a = new RecordingClient()
  s.attach(a, false)
  s.detach(a)
  await new Promise((r) => setTimeout(r, 80))
  assert.deepEqual(p.signals, [15, 9])
})

test('re-attaching cancels the disconnect timer', async () => {
  const { p, s } = session({ mrad: 30 })
  const a = new RecordingClient()
  s.attach(a, false)
  s.detach(a)
  s.attach(new RecordingClient(), true)
  await new Promise((r) => setTimeout(r, 60))
  assert.deepEqual(p.signals, [])
})

test('scrollback keeps the newest bytes', () => {
  const sb = new Scrollback(10)
  sb.push(1, Buffer.from('abcdef'))
  sb.push(2, Buffer.from('ghijkl'))
  assert.equal(sb.size, 10)
  assert.equal(Buffer.concat(sb.chunks().map((c) => c.data)).toString(), 'cdefghijkl')
  sb.push(1, Buffer.from('0123456789xyz'))
  assert.equal(Buffer.concat(sb.chunks().map((c) => c.data)).toString(), '3456789xyz')
})

test('registry ids skip live sessions and remember ended ones', () => {
  const reg = new SessionRegistry({ maxSessions: 2 })
  const { p, s } = session()
  const id = reg.allocate()
  assert.equal(id, 1)
  reg.add(s)
  assert.equal(reg.allocate(), 2)
  p.emit('exit', 7, null)
  assert.equal(reg.get(1), undefined)
  assert.equal(reg.ended(1), 7)
})

test('exec parameters: defaults, aliases and validation', () => {
  const r = parseExecRequest(new URLSearchParams('cmd=sh&cmd=-c&cmd=exit+42'))
  assert.deepEqual(r.argv, ['sh', '-c', 'exit 42'])
  assert.equal(r.path, 'sh')
  assert.equal(r.tty, false)
  assert.equal(r.stdin, false)
  assert.equal(r.dir, '/home/sprite')
  assert.equal(r.maxRunAfterDisconnectMs, 10_000)
  const t = parseExecRequest(new URLSearchParams('tty=true&rows=50&cols=132'))
  assert.deepEqual([t.argv, t.path, t.stdin, t.rows, t.cols], [['bash'], 'bash', true, 50, 132])
  assert.equal(t.maxRunAfterDisconnectMs, 0)
  const d = parseExecRequest(
    new URLSearchParams('cmd[]=ls&detachable=1&max_run_after_disconnect=1.5s'),
  )
  assert.deepEqual([d.argv, d.maxRunAfterDisconnectMs], [['ls'], 1500])
  assert.throws(() => parseExecRequest(new URLSearchParams('cmd=ls&env=NOEQUALS')), {
    code: 'invalid_argument',
  })
  assert.throws(() => parseExecRequest(new URLSearchParams('rows=abc')), {
    code: 'invalid_argument',
  })
})

test('environment: defaults < sprite environment < request env; TTY adds TERM', () => {
  const env = buildExecEnv({ FOO: 'sprite', HOME: '/h' }, ['FOO=req', 'BAR=1'], true)
  const m = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  assert.equal(m.get('FOO'), 'req')
  assert.equal(m.get('BAR'), '1')
  assert.equal(m.get('HOME'), '/h')
  assert.equal(m.get('TERM'), 'xterm-256color')
  assert.match(m.get('PATH') ?? '', /^\/\.sprite\/bin:/)
  assert.ok(!buildExecEnv({}, [], false).some((e) => e.startsWith('TERM=')))
})
