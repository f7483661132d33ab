// Service NDJSON streams (sprites-api.md §1.4, §7): a failure after the headers went out is an
// `error` event followed by `complete`, never a cut connection; failures before are JSON errors.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Sandbox, SandboxProcess, SpawnOptions } from '@sprites/runtime'
import { noopLogger } from '../src/index.ts'
import { encodeStored, parseDefinition } from '../src/supervisor/service-definition.ts'
import { serviceModule } from '../src/supervisor/service-routes.ts'
import { Supervisor } from '../src/supervisor/supervisor.ts'
import { startTestServer } from './harness.ts'

type Json = Record<string, unknown>

/** A process of the fake sandbox: exits with `code` after its output, or stays until signalled. */
class FakeProcess extends EventEmitter implements SandboxProcess {
  readonly pid: number
  #exited = false

  constructor(pid: number) {
    super()
    this.pid = pid
  }

  finish(code: number, stdout = '', stderr = ''): this {
    setImmediate(() => {
      if (stdout) this.emit('stdout', Buffer.from(stdout))
      if (stderr) this.emit('stderr', Buffer.from(stderr))
      this.exit(code)
    })
    return this
  }

  exit(code: number): void {
    if (this.#exited) return
    this.#exited = true
    this.emit('exit', code, null)
  }

  write(): void {}
  endStdin(): void {
    setImmediate(() => this.exit(0))
  }
  resize(): void {}
  signal(signo: number): void {
    setImmediate(() => this.exit(128 + signo))
  }
}

/**
 * A sandbox that answers the supervisor's root scripts: `web` (running from boot) and `idle`
 * (sticky-stopped) are on its disk; saving a definition fails while `saves` says so.
 */
class FakeSandbox extends EventEmitter {
  readonly id = 'sandbox-fake'
  readonly pid = 4242
  saves: 'ok' | 'exit-1' | 'spawn-error' = 'ok'
  #pids = 100

  async spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    const p = new FakeProcess(this.#pids++)
    if (opts.argv[0] !== 'sh' || opts.argv[1] !== '-c') return p
    const script = opts.argv[2] ?? ''
    if (script.startsWith('for f in /.sprite/services')) return p.finish(0, stored())
    if (script.includes('.tmp')) {
      if (this.saves === 'spawn-error') throw new Error('agent connection lost')
      return this.saves === 'ok' ? p.finish(0) : p.finish(1, '', 'No space left on device\n')
    }
    return p.finish(0)
  }
}

function stored(): string {
  const def = (name: string) => parseDefinition(name, { cmd: 'sleep', args: ['1000'] })
  return [
    encodeStored({ ...def('web'), stopped: false }),
    encodeStored({ ...def('idle'), stopped: true }),
    '',
  ].join('\n')
}

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const sandbox = new FakeSandbox()
  const logs = mkdtempSync(join(tmpdir(), 'sprites-svclogs-'))
  t.after(() => rmSync(logs, { recursive: true, force: true }))
  const supervisor = new Supervisor({
    host: { ensureRunning: async () => sandbox as unknown as Sandbox, on: () => undefined },
    logDir: (spriteID) => join(logs, spriteID),
    log: noopLogger,
  })
  const h = await startTestServer(t, { modules: [serviceModule(supervisor)] })
  assert.equal((await h.request('POST', '/v1/sprites', { body: { name: 'svc' } })).status, 201)
  return { ...h, sandbox }
}

/** Reads an NDJSON response: every line must be whole JSON and the body must end with `\n`. */
async function events(r: Response): Promise<Json[]> {
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'application/x-ndjson')
  const text = await r.text()
  assert.ok(text.endsWith('\n'), `the stream ends with a whole line: ${JSON.stringify(text)}`)
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Json)
}

test('a failure after the headers is an error event, then complete', async (t) => {
  const h = await setup(t)
  const base = '/v1/sprites/svc/services'
  const web = (await (await h.request('GET', `${base}/web`)).json()) as { state: Json }
  assert.equal(web.state.status, 'running')

  h.sandbox.saves = 'exit-1'
  for (const [path, svc] of [
    ['/web/stop', 'web'],
    ['/web/restart?duration=0', 'web'],
    ['/idle/start?duration=0', 'idle'],
  ] as const) {
    const evs = await events(await h.request('POST', `${base}${path}`))
    const types = evs.map((e) => e.type)
    assert.deepEqual(types.slice(-2), ['error', 'complete'], `${path}: ${JSON.stringify(evs)}`)
    const err = evs.at(-2) as Json
    assert.match(String(err.data), new RegExp(`could not save service ${svc}: No space left`))
    assert.equal(typeof err.timestamp, 'number')
    const done = evs.at(-1) as { log_files: Json; timestamp: unknown }
    assert.equal(done.log_files.combined, `/.sprite/logs/services/${svc}.log`)
    assert.equal(typeof done.timestamp, 'number')
  }

  // Not a SpritesError: logged, and the event says what a 500 would.
  h.sandbox.saves = 'spawn-error'
  const evs = await events(await h.request('POST', `${base}/idle/start?duration=0`))
  assert.deepEqual(
    evs.map((e) => [e.type, e.data]),
    [
      ['error', 'internal server error'],
      ['complete', undefined],
    ],
  )
})

test('failures before streaming stay JSON errors; success streams as before', async (t) => {
  const h = await setup(t)
  const base = '/v1/sprites/svc/services'
  h.sandbox.saves = 'exit-1'
  const put = await h.request('PUT', `${base}/new?duration=0`, { body: { cmd: 'sleep' } })
  assert.equal(put.status, 500)
  assert.equal(((await put.json()) as Json).error, 'internal')
  const idleStop = await h.request('POST', `${base}/idle/stop`)
  assert.equal(idleStop.status, 409)

  h.sandbox.saves = 'ok'
  const started = await events(await h.request('POST', `${base}/idle/start?duration=0`))
  assert.deepEqual(
    started.map((e) => e.type),
    ['started', 'complete'],
  )
  const again = await events(await h.request('POST', `${base}/idle/start`))
  assert.deepEqual(
    again.map((e) => e.type),
    ['complete'],
  )
})
