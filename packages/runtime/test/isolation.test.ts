import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { detectCgroupLayout } from '../src/host/index.ts'
import type { Sandbox } from '../src/runtime-driver.ts'
import { crunSkipReason, setUpCrun, UID_BASE } from './fixtures/crun-setup.ts'
import { execIn, shIn } from './fixtures/sandbox-exec.ts'

const skip = crunSkipReason()
const MEMORY_BYTES = 64 * 1024 * 1024
const PIDS_MAX = 48

function cgroupFile(parent: string, id: string, v1: [string, string], v2: string): string {
  return detectCgroupLayout() === 'v2'
    ? join('/sys/fs/cgroup', parent, id, v2)
    : join('/sys/fs/cgroup', v1[0], parent, id, v1[1])
}

async function assertAgentAlive(t: TestContext, sandbox: Sandbox): Promise<void> {
  const r = await execIn(sandbox, ['echo', 'alive'])
  t.assert.equal(r.stdout, 'alive\n')
}

test('a sandbox is confined', { skip }, async (t: TestContext) => {
  const env = await setUpCrun(t, 'isolation')
  const before = env.snapshot()
  const spec = env.spec('sp-150a7e000001', { memoryBytes: MEMORY_BYTES, pidsMax: PIDS_MAX })
  const sandbox = await env.driver.start(spec)
  t.after(() => sandbox.stop())

  await t.test('mounts and new user namespaces are refused', async (t: TestContext) => {
    const mount = await execIn(sandbox, ['mount', '-t', 'tmpfs', 'x', '/mnt'])
    t.assert.notEqual(mount.code, 0)
    const unshare = await execIn(sandbox, ['unshare', '-U', 'true'])
    t.assert.notEqual(unshare.code, 0)
    t.assert.match(unshare.stderr, /Operation not permitted/)
    const unshareNet = await execIn(sandbox, ['unshare', '-n', 'true'])
    t.assert.notEqual(unshareNet.code, 0)
  })

  await t.test('kernel knobs and the sprite bin dir are read-only', async (t: TestContext) => {
    for (const file of [
      '/proc/sys/kernel/hostname',
      '/proc/sys/vm/drop_caches',
      '/proc/sysrq-trigger',
    ]) {
      const r = await shIn(sandbox, `echo 1 > ${file}`)
      t.assert.notEqual(r.code, 0, file)
    }
    t.assert.notEqual((await shIn(sandbox, 'echo x > /.sprite/bin/x')).code, 0)
    t.assert.equal(
      (await shIn(sandbox, 'echo x > /.sprite/tmp/x && cat /.sprite/tmp/x')).stdout,
      'x\n',
    )
    t.assert.equal((await execIn(sandbox, ['cat', '/proc/kcore'])).stdout, '')
    t.assert.notEqual((await execIn(sandbox, ['mknod', '/tmp/sda', 'b', '8', '0'])).code, 0)
  })

  await t.test('host processes are invisible', async (t: TestContext) => {
    const r = await execIn(sandbox, ['ls', '/proc'])
    const pids = r.stdout
      .split('\n')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
    t.assert.ok(pids.includes(1))
    t.assert.ok(pids.length <= 3, `sandbox sees pids ${pids.join(',')}`)
    t.assert.ok(!pids.includes(process.pid) || process.pid <= 3)
  })

  await t.test('root inside is the uid base outside', (t: TestContext) => {
    const status = readFileSync(`/proc/${sandbox.pid}/status`, 'utf8')
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/)
    t.assert.deepEqual(uids, [UID_BASE, UID_BASE, UID_BASE, UID_BASE].map(String))
    const gids = /^Gid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/)
    t.assert.deepEqual(gids, [UID_BASE, UID_BASE, UID_BASE, UID_BASE].map(String))
  })

  await t.test('a fork bomb hits pids.max and the agent survives', async (t: TestContext) => {
    const bomb = await sandbox.spawn({
      argv: ['/bin/sh', '-c', 'while true; do sleep 60 & done'],
      env: ['PATH=/bin'],
      cwd: '/',
      uid: 0,
      gid: 0,
      stdin: false,
    })
    const exited = new Promise<number>((resolve) =>
      bomb.once('exit', (code: number) => resolve(code)),
    )
    const current = cgroupFile(env.cgroupParent, spec.id, ['pids', 'pids.current'], 'pids.current')
    const events = cgroupFile(env.cgroupParent, spec.id, ['pids', 'pids.events'], 'pids.events')
    const refused = () => Number(/^max (\d+)/m.exec(readFileSync(events, 'utf8'))?.[1] ?? 0)
    for (let i = 0; i < 500 && refused() === 0; i++) await sleep(10)
    t.assert.ok(refused() > 0, 'no fork was refused')
    t.assert.ok(Number(readFileSync(current, 'utf8')) <= PIDS_MAX)
    bomb.signal(9)
    await exited
    for (let i = 0; i < 500 && Number(readFileSync(current, 'utf8')) > 1; i++) await sleep(10)
    t.assert.equal(readFileSync(current, 'utf8').trim(), '1', "the bomb's children were not killed")
    await assertAgentAlive(t, sandbox)
  })

  await t.test('a memory hog is OOM-killed and the agent survives', async (t: TestContext) => {
    const r = await shIn(
      sandbox,
      'head -c 1000000000 /dev/zero | tail -c 500000000 > /dev/null; echo "tail=$?"',
    )
    t.assert.match(r.stdout, /tail=137/)
    const events = cgroupFile(
      env.cgroupParent,
      spec.id,
      ['memory', 'memory.oom_control'],
      'memory.events',
    )
    t.assert.match(readFileSync(events, 'utf8'), /oom_kill [1-9]/)
    await assertAgentAlive(t, sandbox)
  })

  await t.test('stop leaves nothing', async (t: TestContext) => {
    await sandbox.stop()
    t.assert.deepEqual(env.snapshot(), before)
  })
})
