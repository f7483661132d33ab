// Network egress policy enforcement (sprites-api.md §8.1) against a live spritesd: the test
// builds its own "internet", an upstream netns behind the router netns with an authoritative
// DNS server (dnsmasq) and HTTP/TCP servers on public-looking test addresses (198.18.0.0/15) and
// on a private one, then checks from inside real sprites what resolves and what connects.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { api, type Conn, createSprite, deleteAll, execWS, sh, waitUntil } from './api-helpers.ts'
import { cmdline, HOLD_PY, netnsInode, netnsOf, PROBE_PY, pidsInNetns } from './egress-probes.ts'
import {
  ALLOWED_IP,
  type EgressUpstream,
  GITHUB_IP,
  OTHER_IP,
  PRIVATE_IP,
  RAW_IP,
  run,
  startEgressUpstream,
  UPSTREAM_DNS,
  WILD_IP,
} from './egress-upstream.ts'
import { INSTANCE, instanceDirs, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const T = { timeout: 120_000 }
const ROUTER = instanceDirs(INSTANCE).routerNetns
const UP = `${INSTANCE.slice(0, 20)}-up`

describe('network egress enforcement', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  let conn: Conn
  const a = uniqueName('egress-a')
  const b = uniqueName('egress-b')
  /** Processes the test starts in the router netns. */
  const procs: ChildProcess[] = []
  let upstream: EgressUpstream | undefined
  let resolverPids: number[] = []

  const probe = async (name: string, ...args: string[]) => {
    const r = await execWS(conn, name, ['python3', '-c', PROBE_PY, ...args], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    const results = new Map<string, string>()
    for (const line of r.stdout.trim().split('\n')) {
      const [arg, result] = JSON.parse(line) as [string, string]
      results.set(arg, result)
    }
    return results
  }
  const setPolicy = async (name: string, rules: unknown[]) => {
    const r = await api(conn, 'POST', `/v1/sprites/${name}/policy/network`, { body: { rules } })
    assert.equal(r.status, 204, r.text)
  }
  const allow = (domain: string) => ({ domain, action: 'allow' })

  before(async () => {
    srv = await startSpritesd({ SPRITES_DNS_UPSTREAM: UPSTREAM_DNS })
    conn = { baseURL: srv.baseURL, token: srv.token }
    await createSprite(conn, a)
    await createSprite(conn, b)
    // The first boot creates the router netns; the test's upstream hangs off it.
    await sh(conn, a, 'true')
    await sh(conn, b, 'true')
    upstream = await startEgressUpstream(ROUTER, UP)
  })

  after(async () => {
    for (const p of procs.splice(0)) p.kill('SIGKILL')
    upstream?.stop()
    await deleteAll(conn, [a, b])
    await srv?.stop()
  })

  test(
    'without a policy every name resolves and connects, raw addresses too; private never',
    T,
    async () => {
      assert.equal(
        (await sh(conn, a, 'cat /etc/resolv.conf')).trim(),
        `nameserver ${gatewayOf(await sh(conn, a, 'ip -4 route show default'))}`,
      )
      const r = await probe(
        a,
        'dns:allowed.test',
        'dns:other.test',
        'tcpdns:other.test',
        'get:allowed.test',
        'get:other.test',
        `get:${RAW_IP}`,
        `get:${PRIVATE_IP}`,
        'get:private.test',
      )
      assert.equal(r.get('dns:allowed.test'), `rcode=0 ${ALLOWED_IP}`)
      assert.equal(r.get('dns:other.test'), `rcode=0 ${OTHER_IP}`)
      assert.equal(r.get('tcpdns:other.test'), `rcode=0 ${OTHER_IP}`)
      assert.equal(r.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
      assert.equal(r.get('get:other.test'), `ok hello ${OTHER_IP}`)
      assert.equal(r.get(`get:${RAW_IP}`), `ok hello ${RAW_IP}`)
      assertRefusedAtOnce(r.get(`get:${PRIVATE_IP}`))
      assertRefusedAtOnce(r.get('get:private.test'))
      const curl = await sh(conn, a, 'curl -sS -m 5 http://allowed.test/; getent hosts other.test')
      assert.match(curl, new RegExp(`^hello ${ALLOWED_IP}\n${OTHER_IP} +other\\.test\n$`))
      // The private server is up: the router itself reaches it, sprites never do.
      assert.equal(
        run('ip', ['netns', 'exec', ROUTER, 'curl', '-sS', '-m', '3', `http://${PRIVATE_IP}/`]),
        `hello ${PRIVATE_IP}\n`,
      )
    },
  )

  test(
    'an allowlist: its names resolve and connect, others are REFUSED, raw addresses fail at once',
    T,
    async () => {
      const started = Date.now()
      await setPolicy(a, [allow('allowed.test')])
      const r = await probe(
        a,
        'dns:allowed.test',
        'dns:other.test',
        'tcpdns:other.test',
        'get:allowed.test',
        'get:other.test',
        `get:${RAW_IP}`,
        `get:${OTHER_IP}`,
      )
      const elapsed = Date.now() - started
      assert.equal(r.get('dns:allowed.test'), `rcode=0 ${ALLOWED_IP}`)
      assert.equal(r.get('dns:other.test'), 'rcode=5 ')
      assert.equal(r.get('tcpdns:other.test'), 'rcode=5 ')
      assert.equal(r.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
      assert.equal(r.get('get:other.test'), 'ERR gaierror')
      assertRefusedAtOnce(r.get(`get:${RAW_IP}`))
      assertRefusedAtOnce(r.get(`get:${OTHER_IP}`))
      assert.ok(elapsed < 5000, `policy change plus checks took ${elapsed} ms`)
      const curl = await execWS(conn, a, [
        'sh',
        '-c',
        `curl -sS -m 5 -o /dev/null -w '%{time_total}' http://${RAW_IP}/`,
      ])
      assert.equal(curl.code, 7, `curl to a raw address: ${curl.stdout} ${curl.stderr}`)
      assert.ok(Number(curl.stdout) < 1, `curl failed after ${curl.stdout} s`)
      assert.equal((await execWS(conn, a, ['getent', 'hosts', 'other.test'])).code, 2)
    },
  )

  test('a change applies within about a second, and only to that sprite', T, async () => {
    const started = Date.now()
    await setPolicy(a, [allow('other.test')])
    const applied = Date.now() - started
    const r = await probe(a, 'get:other.test', 'get:allowed.test')
    assert.ok(applied < 1000, `the change took ${applied} ms`)
    assert.equal(r.get('get:other.test'), `ok hello ${OTHER_IP}`)
    assert.equal(r.get('get:allowed.test'), 'ERR gaierror')
    const rb = await probe(b, 'get:allowed.test', `get:${RAW_IP}`)
    assert.equal(rb.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`, 'B has no policy')
    assert.equal(rb.get(`get:${RAW_IP}`), `ok hello ${RAW_IP}`)
    await setPolicy(b, [allow('allowed.test')])
    const [ra, rb2] = await Promise.all([
      probe(a, 'dns:allowed.test', 'get:other.test'),
      probe(b, 'dns:other.test', 'get:allowed.test'),
    ])
    assert.equal(ra.get('dns:allowed.test'), 'rcode=5 ')
    assert.equal(ra.get('get:other.test'), `ok hello ${OTHER_IP}`)
    assert.equal(rb2.get('dns:other.test'), 'rcode=5 ')
    assert.equal(rb2.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
    await setPolicy(b, [])
  })

  test('`*`, `*.` patterns, deny rules and `defaults`', T, async () => {
    await setPolicy(a, [allow('*'), { domain: 'other.test', action: 'deny' }])
    let r = await probe(a, 'get:allowed.test', 'get:wild.test', 'dns:other.test', `get:${RAW_IP}`)
    assert.equal(r.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
    assert.equal(r.get('get:wild.test'), `ok hello ${WILD_IP}`)
    assert.equal(r.get('dns:other.test'), 'rcode=5 ')
    assertRefusedAtOnce(r.get(`get:${RAW_IP}`))
    await setPolicy(a, [allow('*.wild.test')])
    r = await probe(a, 'get:api.wild.test', 'dns:deep.api.wild.test', 'dns:wild.test')
    assert.equal(r.get('get:api.wild.test'), `ok hello ${WILD_IP}`)
    assert.equal(r.get('dns:deep.api.wild.test'), `rcode=0 ${WILD_IP}`)
    assert.equal(r.get('dns:wild.test'), 'rcode=5 ', 'the apex is not covered by *.')
    await setPolicy(a, [{ include: 'defaults' }, allow('private.test')])
    r = await probe(a, 'get:github.com', 'dns:other.test', 'dns:private.test', 'get:private.test')
    assert.equal(r.get('get:github.com'), `ok hello ${GITHUB_IP}`)
    assert.equal(r.get('dns:other.test'), 'rcode=5 ')
    assert.equal(r.get('dns:private.test'), `rcode=0 ${PRIVATE_IP}`)
    assertRefusedAtOnce(r.get('get:private.test'))
  })

  test(
    'an established connection survives a change that keeps its name, and is cut when it is denied',
    T,
    async () => {
      await setPolicy(a, [allow('allowed.test')])
      const hold = execWS(conn, a, ['python3', '-c', HOLD_PY], { timeoutMs: 60_000 })
      const state = async () =>
        (await sh(conn, a, 'cat /tmp/hold.state 2>/dev/null || true')).trim()
      const echoes = async () => Number(/^alive (\d+)$/.exec(await state())?.[1] ?? -1)
      await waitUntil(async () => (await echoes()) >= 3, 10_000, 'the connection echoes')
      await setPolicy(a, [allow('allowed.test'), allow('other.test')])
      const before = await echoes()
      await new Promise((r) => setTimeout(r, 1000))
      assert.ok((await echoes()) > before + 3, `still echoing after a widening: ${await state()}`)
      const cutAt = Date.now()
      await setPolicy(a, [allow('other.test')])
      await waitUntil(async () => (await state()).startsWith('cut'), 5000, 'the connection is cut')
      assert.ok(Date.now() - cutAt < 3000, `cut after ${Date.now() - cutAt} ms`)
      assert.equal(await state(), 'cut ConnectionResetError')
      assert.equal((await hold).code, 0)
    },
  )

  test(
    'the router answers DNS only; a restart keeps the policy; a killed resolver comes back',
    T,
    async () => {
      const gateway = gatewayOf(await sh(conn, a, 'ip -4 route show default'))
      procs.push(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            ROUTER,
            process.execPath,
            '-e',
            "require('node:http').createServer((q, r) => r.end('router')).listen(80)",
          ],
          { stdio: 'ignore' },
        ),
      )
      await new Promise((r) => setTimeout(r, 500))
      await setPolicy(a, [])
      let r = await probe(a, `get:${gateway}`)
      assert.match(r.get(`get:${gateway}`) ?? '', /^ERR (ETIMEDOUT|TimeoutError|timeout)/)

      await setPolicy(a, [allow('allowed.test')])
      const restart = await api(conn, 'POST', `/v1/sprites/${a}/restart`, { timeoutMs: 60_000 })
      assert.equal(restart.status, 200, restart.text)
      r = await probe(a, 'dns:other.test', 'get:allowed.test', `get:${RAW_IP}`)
      assert.equal(r.get('dns:other.test'), 'rcode=5 ')
      assert.equal(r.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
      assertRefusedAtOnce(r.get(`get:${RAW_IP}`))

      resolverPids = pidsInNetns(ROUTER).filter((p) => cmdline(p).includes('resolver-main'))
      assert.equal(resolverPids.length, 1, `one resolver in ${ROUTER}`)
      process.kill(resolverPids[0] as number, 'SIGKILL')
      await waitUntil(
        () =>
          pidsInNetns(ROUTER).some(
            (p) => cmdline(p).includes('resolver-main') && !resolverPids.includes(p),
          ),
        10_000,
        'a new resolver',
      )
      await waitUntil(
        async () =>
          (await probe(a, 'dns:allowed.test')).get('dns:allowed.test') === `rcode=0 ${ALLOWED_IP}`,
        10_000,
        'DNS answers again',
      )
      r = await probe(a, 'dns:other.test', 'get:allowed.test', `get:${OTHER_IP}`)
      assert.equal(r.get('dns:other.test'), 'rcode=5 ')
      assert.equal(r.get('get:allowed.test'), `ok hello ${ALLOWED_IP}`)
      assertRefusedAtOnce(r.get(`get:${OTHER_IP}`))
      resolverPids = pidsInNetns(ROUTER).filter((p) => cmdline(p).includes('resolver-main'))
    },
  )

  test(
    'stopping spritesd ends the resolver; the router netns then goes with its table',
    T,
    async () => {
      for (const p of procs.splice(0)) p.kill('SIGKILL')
      upstream?.stop()
      await deleteAll(conn, [a, b])
      await srv.stop()
      assert.ok(resolverPids.length > 0)
      await waitUntil(() => resolverPids.every((p) => !netnsOf(p)), 5000, 'the resolver exits')
      assert.deepEqual(pidsInNetns(ROUTER).map(cmdline), [], `processes left in ${ROUTER}`)
      const inode = netnsInode(ROUTER)
      run('ip', ['netns', 'del', ROUTER])
      const holders = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && netnsOf(p) === inode)
      assert.deepEqual(holders, [], 'nothing keeps the old router netns (and its nft table) alive')
    },
  )
})

/** The default gateway in `ip -4 route show default` output. */
function gatewayOf(route: string): string {
  const m = /default via (\S+)/.exec(route)
  assert.ok(m, route)
  return m[1] as string
}

/** A connect that failed with an immediate rejection (no route / refused), not a timeout. */
function assertRefusedAtOnce(result: string | undefined): void {
  const m = /^ERR (ECONNREFUSED|EHOSTUNREACH) (\d+)$/.exec(result ?? '')
  assert.ok(m, `expected an immediate refusal, got ${result}`)
  assert.ok(Number(m[2]) < 1000, `refused only after ${m[2]} ms`)
}
