import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { detectCgroupLayout } from '../src/host/index.ts'
import { createCrunDriver } from '../src/oci/index.ts'
import type { Sandbox } from '../src/runtime-driver.ts'
import { crunSkipReason, setUpCrun, UID_BASE } from './fixtures/crun-setup.ts'
import { takeLeakSnapshot } from './fixtures/leak-snapshot.ts'
import { execIn, isDead, median } from './fixtures/sandbox-exec.ts'

const skip = crunSkipReason()
/** CapEff of CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE,
 * SYS_CHROOT, AUDIT_WRITE and SETFCAP (bits 0,1,3-8,10,18,29,31). */
const EXPECTED_CAP_EFF = '00000000a00405fb'

function readLimit(parent: string, id: string, v1: [string, string], v2: string): string {
  const layout = detectCgroupLayout()
  const file =
    layout === 'v2'
      ? join('/sys/fs/cgroup', parent, id, v2)
      : join('/sys/fs/cgroup', v1[0], parent, id, v1[1])
  return readFileSync(file, 'utf8').trim()
}

test('crun driver runs the agent in a confined sandbox and leaves nothing', {
  skip,
}, async (t: TestContext) => {
  const env = await setUpCrun(t, 'crun')
  const before = env.snapshot()
  const spec = env.spec('sp-c0ffee000001', { memoryBytes: 96 * 1024 * 1024, pidsMax: 77 })
  let sandbox: Sandbox | undefined = await env.driver.start(spec)
  t.after(() => sandbox?.stop())

  await t.test('the agent answers as root of the user namespace', async (t: TestContext) => {
    const id = await execIn(sandbox!, ['id'])
    t.assert.equal(id.code, 0, id.stderr)
    t.assert.match(id.stdout, /^uid=0\(root\) gid=0\(root\)/)
    t.assert.equal((await execIn(sandbox!, ['hostname'])).stdout.trim(), spec.hostname)
    const map = await execIn(sandbox!, ['cat', '/proc/self/uid_map'])
    t.assert.deepEqual(map.stdout.trim().split(/\s+/), ['0', String(UID_BASE), '65536'])
    const user = await execIn(sandbox!, ['id', '-u'], { uid: 1001 })
    t.assert.equal(user.stdout.trim(), '1001')
  })

  await t.test(
    'seccomp, capabilities and no_new_privs are as configured',
    async (t: TestContext) => {
      const status = (await execIn(sandbox!, ['cat', '/proc/self/status'])).stdout
      t.assert.match(status, /^Seccomp:\s+2$/m)
      t.assert.match(status, /^NoNewPrivs:\s+0$/m)
      t.assert.match(status, new RegExp(`^CapEff:\\s+${EXPECTED_CAP_EFF}$`, 'm'))
      t.assert.match(status, new RegExp(`^CapBnd:\\s+${EXPECTED_CAP_EFF}$`, 'm'))
    },
  )

  await t.test('the sandbox cgroup carries the limits', (t: TestContext) => {
    const memory = readLimit(
      env.cgroupParent,
      spec.id,
      ['memory', 'memory.limit_in_bytes'],
      'memory.max',
    )
    t.assert.equal(Number(memory), spec.memoryBytes)
    t.assert.equal(readLimit(env.cgroupParent, spec.id, ['pids', 'pids.max'], 'pids.max'), '77')
    const cgroups = readFileSync(`/proc/${sandbox!.pid}/cgroup`, 'utf8')
    t.assert.ok(cgroups.includes(`/${env.cgroupParent}/${spec.id}`), cgroups)
  })

  await t.test(
    'stop kills the sandbox, is idempotent and leaves nothing',
    async (t: TestContext) => {
      const exited = new Promise((resolve) => sandbox!.once('exit', resolve))
      const pid = sandbox!.pid
      await Promise.all([sandbox!.stop(), sandbox!.stop()])
      await sandbox!.stop()
      await exited
      t.assert.ok(isDead(pid))
      t.assert.deepEqual(env.snapshot(), before)
      sandbox = undefined
    },
  )

  await t.test('cleanup removes a container left behind', async (t: TestContext) => {
    const leftover = await env.driver.start(env.spec('sp-c0ffee000002'))
    await env.driver.cleanup(leftover.id)
    t.assert.ok(isDead(leftover.pid))
    t.assert.deepEqual(env.snapshot(), before)
    await env.driver.cleanup(leftover.id)
    await leftover.stop()
  })

  await t.test('a second sandbox with the same id starts after stop', async (t: TestContext) => {
    const startMs: number[] = []
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      const s = await env.driver.start(spec)
      startMs.push(performance.now() - started)
      t.assert.equal((await execIn(s, ['true'])).code, 0)
      await s.stop()
    }
    t.diagnostic(`crun run -> agent READY, median of 5: ${median(startMs).toFixed(1)} ms`)
    t.assert.deepEqual(env.snapshot(), before)
  })
})

test('crun driver fails clearly when the agent sends no READY', {
  skip,
}, async (t: TestContext) => {
  const env = await setUpCrun(t, 'crun-noready')
  const before = env.snapshot()
  const { EventEmitter } = await import('node:events')
  const driver = createCrunDriver({
    runDir: join(env.fx.dir, 'run'),
    cgroupParent: env.cgroupParent,
    readyTimeoutMs: 200,
    createAgent: () =>
      Object.assign(new EventEmitter(), {
        ready: () =>
          new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no READY')), 200)),
        spawn: () => Promise.reject(new Error('unused')),
        close: () => {},
      }),
  })
  await t.assert.rejects(
    driver.start(env.spec('sp-c0ffee000003')),
    (err: Error & { code?: string }) => {
      t.assert.equal(err.code, 'internal')
      t.assert.match(err.message, /sp-c0ffee000003 did not start: no READY/)
      return true
    },
  )
  t.assert.deepEqual(env.snapshot(), before)
})

test('crun driver reports a runtime failure with its message', { skip }, async (t: TestContext) => {
  const env = await setUpCrun(t, 'crun-bad')
  const before = env.snapshot()
  const err = await env.driver
    .start(env.spec('sp-c0ffee000004', { rootfs: '/nonexistent/rootfs' }))
    .then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    )
  t.assert.equal(err?.code, 'internal')
  t.assert.match(err?.message ?? '', /crun run exited 1/)
  t.assert.deepEqual(env.snapshot(), before)
})

const runcSkip = skip || (spawnSync('runc', ['--version']).status === 0 ? false : 'needs runc')
test('the runc fallback runs the same bundle and leaves nothing', {
  skip: runcSkip,
}, async (t: TestContext) => {
  const env = await setUpCrun(t, 'runc')
  const runDir = join(env.fx.dir, 'run')
  const driver = createCrunDriver({ runDir, cgroupParent: env.cgroupParent, runtimeBinary: 'runc' })
  const before = takeLeakSnapshot(env.cgroupParent, [join(runDir, 'runc')])
  const sandbox = await driver.start(env.spec('sp-c0ffee000005'))
  t.after(() => sandbox.stop())
  t.assert.equal(driver.name, 'runc')
  const status = (await execIn(sandbox, ['cat', '/proc/self/status'])).stdout
  t.assert.match(status, /^Seccomp:\s+2$/m)
  t.assert.match(status, new RegExp(`^CapEff:\\s+${EXPECTED_CAP_EFF}$`, 'm'))
  await sandbox.stop()
  t.assert.deepEqual(takeLeakSnapshot(env.cgroupParent, [join(runDir, 'runc')]), before)
})
