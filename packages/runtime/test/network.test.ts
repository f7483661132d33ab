import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type TestContext, test } from 'node:test'
import { createNetnsNetworkDriver } from '../src/network/index.ts'
import { crunSkipReason, setUpCrun } from './fixtures/crun-setup.ts'
import { takeLeakSnapshot } from './fixtures/leak-snapshot.ts'
import { connectFrom, linksIn, sh, startServer } from './fixtures/netns-tools.ts'
import { execIn, median } from './fixtures/sandbox-exec.ts'

const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : spawnSync('nft', ['--version']).status !== 0
      ? 'needs nft'
      : false

const ID = process.pid
const ROUTER = `sprt-${ID}`
const UPSTREAM = `spup-${ID}`
const PREFIX = `tn${ID}-`
/**
 * The test's stand-in for the internet: a netns behind the router's `up0`, on a public-looking
 * test address (private ranges are never reachable from sprites).
 */
const UPSTREAM_ADDR = '198.18.0.2'

function createUpstream(): void {
  sh('ip', ['netns', 'add', UPSTREAM])
  sh(
    'ip',
    ['-n', ROUTER, '-batch', '-'],
    [
      `link add up0 type veth peer name eth0 netns ${UPSTREAM}`,
      'addr add 198.18.0.1/30 dev up0',
      'link set up0 up',
      '',
    ].join('\n'),
  )
  sh(
    'ip',
    ['-n', UPSTREAM, '-batch', '-'],
    'addr add 198.18.0.2/30 dev eth0\nlink set eth0 up\nlink set lo up\n',
  )
}

test('netns network driver (router mode)', { skip }, async (t: TestContext) => {
  const before = takeLeakSnapshot('sprites-none', [])
  const net = createNetnsNetworkDriver({ mode: 'router', routerNetns: ROUTER, netnsPrefix: PREFIX })
  const servers: ChildProcess[] = []
  t.after(async () => {
    for (const s of servers) if (s.pid) process.kill(s.pid, 'SIGKILL')
    for (const slot of [1, 2, 3, 4, 5, 6]) await net.teardown(slot).catch(() => {})
    if (existsSync(`/run/netns/${UPSTREAM}`)) sh('ip', ['netns', 'del', UPSTREAM])
    await net.destroyRouter()
  })

  const setupMs: number[] = []
  const timed = async (slot: number) => {
    const started = performance.now()
    const r = await net.setup(slot)
    setupMs.push(performance.now() - started)
    return r
  }
  await net.setup(6) // creates the router: not part of the per-sprite timing
  const a = await timed(1)
  const b = await timed(2)
  for (const slot of [3, 4, 5]) await timed(slot)
  t.diagnostic(`netns setup (3 ip runs), median of 5: ${median(setupMs).toFixed(1)} ms`)
  createUpstream()

  await t.test('each sprite netns has its address and route', (t: TestContext) => {
    t.assert.deepEqual(a, {
      netnsPath: `/run/netns/${PREFIX}1`,
      address: '10.201.0.6',
      gateway: '10.201.0.5',
    })
    t.assert.equal(b.address, '10.201.0.10')
    const addr = sh('ip', ['-n', `${PREFIX}1`, '-o', '-4', 'addr', 'show', 'dev', 'eth0'])
    t.assert.match(addr, /inet 10\.201\.0\.6\/30/)
    t.assert.match(sh('ip', ['-n', `${PREFIX}1`, 'route']), /default via 10\.201\.0\.5 dev eth0/)
    t.assert.ok(linksIn(ROUTER).includes('vs1'))
  })

  await t.test(
    'a sprite reaches the upstream netns through the masquerading router',
    async (t: TestContext) => {
      servers.push(await startServer(UPSTREAM, UPSTREAM_ADDR, 8080))
      t.assert.equal(connectFrom(`${PREFIX}1`, UPSTREAM_ADDR, 8080), 'hello 198.18.0.1')
      t.assert.equal(connectFrom(`${PREFIX}2`, UPSTREAM_ADDR, 8080), 'hello 198.18.0.1')
    },
  )

  await t.test(
    'an enforced policy refuses at once what no answer allowed',
    async (t: TestContext) => {
      await net.setEgress(1, [{ domain: 'allowed.test', action: 'allow' }])
      try {
        t.assert.equal(connectFrom(`${PREFIX}1`, UPSTREAM_ADDR, 8080), 'ERR ECONNREFUSED')
        t.assert.equal(connectFrom(`${PREFIX}2`, UPSTREAM_ADDR, 8080), 'hello 198.18.0.1')
      } finally {
        await net.setEgress(1, [])
      }
      t.assert.equal(connectFrom(`${PREFIX}1`, UPSTREAM_ADDR, 8080), 'hello 198.18.0.1')
      t.assert.ok(net.resolverPid(), 'the resolver runs with the router')
    },
  )

  await t.test('sprites cannot reach each other or the router', async (t: TestContext) => {
    servers.push(await startServer(`${PREFIX}2`, '0.0.0.0', 8081))
    t.assert.equal(connectFrom(`${PREFIX}2`, b.address, 8081), `hello ${b.address}`)
    t.assert.match(connectFrom(`${PREFIX}1`, b.address, 8081), /^ERR /)
    servers.push(await startServer(ROUTER, '0.0.0.0', 8082))
    t.assert.match(connectFrom(`${PREFIX}1`, a.gateway, 8082), /^ERR /)
    t.assert.match(connectFrom(UPSTREAM, b.address, 8081), /^ERR /)
  })

  await t.test(
    'a sandbox joined to the sprite netns uses it',
    { skip: crunSkipReason() },
    async (t: TestContext) => {
      const env = await setUpCrun(t, 'netns')
      const sandbox = await env.driver.start(
        env.spec('sp-ae7000000001', { netnsPath: a.netnsPath }),
      )
      t.after(() => sandbox.stop())
      t.assert.match(
        (await execIn(sandbox, ['ip', '-4', 'addr', 'show', 'eth0'])).stdout,
        /10\.201\.0\.6\/30/,
      )
      const down = await execIn(sandbox, ['ip', 'link', 'set', 'eth0', 'down'])
      t.assert.match(down.stderr, /Operation not permitted/)
      const fetched = await execIn(sandbox, ['nc', UPSTREAM_ADDR, '8080'])
      t.assert.equal(fetched.stdout, 'hello 198.18.0.1\n')
      await sandbox.stop()
    },
  )

  await t.test('setup is idempotent and re-creates a missing netns', async (t: TestContext) => {
    t.assert.deepEqual(await net.setup(1), a)
    sh('ip', ['netns', 'del', `${PREFIX}1`])
    t.assert.deepEqual(await net.setup(1), a)
    t.assert.equal(connectFrom(`${PREFIX}1`, UPSTREAM_ADDR, 8080), 'hello 198.18.0.1')
  })

  await t.test('teardown and destroyRouter leave nothing', async (t: TestContext) => {
    for (const s of servers.splice(0)) {
      if (s.pid) process.kill(s.pid, 'SIGKILL')
    }
    for (const slot of [1, 2, 3, 4, 5, 6]) await net.teardown(slot)
    await net.teardown(1)
    t.assert.deepEqual(
      linksIn(ROUTER).filter((l) => l.startsWith('vs')),
      [],
    )
    sh('ip', ['netns', 'del', UPSTREAM])
    await net.destroyRouter()
    t.assert.deepEqual(takeLeakSnapshot('sprites-none', []), before)
  })
})
