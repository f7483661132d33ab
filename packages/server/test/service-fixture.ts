// A supervisor over a fake sandbox, behind the test server: the sandbox answers the
// supervisor's root scripts (definitions `web`, running, and `idle`, sticky-stopped, are on its
// "disk"); service processes stay until signalled. Log files go to a temporary directory.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Sandbox, SandboxProcess, SpawnOptions } from '@sprites/runtime'
import { noopLogger } from '../src/index.ts'
import { encodeStored, parseDefinition } from '../src/supervisor/service-definition.ts'
import { serviceModule } from '../src/supervisor/service-routes.ts'
import { Supervisor } from '../src/supervisor/supervisor.ts'
import { startTestServer } from './harness.ts'

export type Json = Record<string, unknown>

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
export class FakeSandbox extends EventEmitter {
  readonly id = 'sandbox-fake'
  readonly pid = 4242
  saves: 'ok' | 'exit-1' | 'spawn-error' = 'ok'
  /** What the definitions directory holds: one JSON line per file. */
  definitions = stored()
  #pids = 100

  async spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    const p = new FakeProcess(this.#pids++)
    if (opts.argv[0] !== 'sh' || opts.argv[1] !== '-c') return p
    const script = opts.argv[2] ?? ''
    if (script.startsWith('for f in /.sprite/services')) return p.finish(0, this.definitions)
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

/** The test server with one sprite `svc`, its services on a {@link FakeSandbox}. */
export async function setupServices(
  t: Parameters<typeof startTestServer>[0],
  definitions?: string,
) {
  const sandbox = new FakeSandbox()
  if (definitions !== undefined) sandbox.definitions = definitions
  const logs = mkdtempSync(join(tmpdir(), 'sprites-svclogs-'))
  t.after(() => rmSync(logs, { recursive: true, force: true }))
  const supervisor = new Supervisor({
    host: { ensureRunning: async () => sandbox as unknown as Sandbox, on: () => undefined },
    logDir: (spriteID) => join(logs, spriteID),
    log: noopLogger,
  })
  const h = await startTestServer(t, { modules: [serviceModule(supervisor)] })
  const created = await h.request('POST', '/v1/sprites', { body: { name: 'svc' } })
  assert.equal(created.status, 201)
  const { id } = (await created.json()) as { id: string }
  /** Host directory of the sprite's service log files. */
  const logDir = join(logs, id)
  return { ...h, sandbox, logDir }
}
