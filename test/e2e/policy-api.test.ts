// Policies (sprites-api.md §8) against a live spritesd: the routes through the official
// @fly/sprites package and raw HTTP, bad input, no wake, the memory limit of the resources policy
// at the next boot, the read-only /.sprite/policy/network.json, no policy routes on api.sock,
// and `sprite policy network` in the CLI.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  api,
  type Conn,
  countsOf,
  createForeignToken,
  createSprite,
  deleteAll,
  execWS,
  instanceResources,
  sandboxCgroups,
  sh,
  waitUntil,
} from './api-helpers.ts'
import { isOneLineError, runCLI } from './cli-helpers.ts'
import {
  INSTANCE,
  instanceDirs,
  loadFlySDK,
  type Spritesd,
  startSpritesd,
  uniqueName,
} from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0
const T = { timeout: 120_000 }
const MiB = 1024 * 1024
const POLICY_FILE = '/.sprite/policy/network.json'
const KINDS = ['network', 'privileges', 'resources'] as const

/** The memory limit of the sprite's sandbox cgroup on the host, in MiB. */
function hostMemoryLimitMB(spriteID: string): number {
  for (const dir of sandboxCgroups(spriteID)) {
    for (const file of ['memory.limit_in_bytes', 'memory.max']) {
      const path = join(dir, file)
      if (existsSync(path)) return Number(readFileSync(path, 'utf8').trim()) / MiB
    }
  }
  throw new Error(`no memory cgroup for ${spriteID}`)
}

describe('policies', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let conn: Conn
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  let client: any
  let baseline: Record<string, number>
  const names: string[] = []
  const ids: string[] = []
  const name = uniqueName('pol')
  const sleeper = uniqueName('polcold')

  const path = (kind: string, sprite = name) => `/v1/sprites/${sprite}/policy/${kind}`
  const status = async (sprite: string) =>
    ((await api(conn, 'GET', `/v1/sprites/${sprite}`)).json as { status: string }).status
  const restart = async () => {
    const r = await api(conn, 'POST', `/v1/sprites/${name}/restart`, { timeoutMs: 60_000 })
    assert.equal(r.status, 200, r.text)
  }

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    baseline = countsOf(await instanceResources())
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
    for (const n of [name, sleeper]) {
      names.push(n)
      ids.push((await createSprite(conn, n)).id)
    }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('no policy call wakes a cold sprite', T, async () => {
    for (const kind of KINDS) {
      assert.equal((await api(conn, 'GET', path(kind, sleeper))).status, 200)
    }
    const writes: [string, string, unknown?][] = [
      ['POST', 'network', { rules: [{ domain: 'example.com', action: 'allow' }] }],
      ['PUT', 'network', { rules: [] }],
      ['POST', 'privileges', { profile: 'minimal' }],
      ['DELETE', 'privileges'],
      ['POST', 'resources', { memory: { limit_mb: 256, autoscale: false } }],
      ['DELETE', 'resources'],
    ]
    for (const [method, kind, body] of writes) {
      const r = await api(conn, method, path(kind, sleeper), { body })
      assert.equal(r.status, 204, `${method} ${kind}: ${r.text}`)
    }
    assert.equal(await status(sleeper), 'cold')
    assert.deepEqual(sandboxCgroups(ids[1]!), [], 'no sandbox was started')
  })

  test('@fly/sprites: network policy round trip; an invalid one rejects', T, async () => {
    const s = client.sprite(name)
    assert.deepEqual(await s.getNetworkPolicy(), { rules: [] })
    const rules = [
      { domain: 'api.example.com', action: 'allow' },
      { domain: '*.Example.org', action: 'deny' },
      { include: 'defaults' },
    ]
    await s.updateNetworkPolicy({ rules })
    assert.deepEqual(await s.getNetworkPolicy(), { rules }, 'exactly as stored')
    await assert.rejects(
      s.updateNetworkPolicy({ rules: [{ domain: 'bad..name', action: 'allow' }] }),
      /Invalid policy: .*invalid policy: rule 0/,
    )
    await assert.rejects(s.updateNetworkPolicy({ rules: [{ include: 'all' }] }), /Invalid policy/)
    assert.deepEqual(await s.getNetworkPolicy(), { rules }, 'unchanged by a refused update')
    await s.updateNetworkPolicy({ rules: [] })
    assert.deepEqual(await s.getNetworkPolicy(), { rules: [] })
  })

  test('@fly/sprites: privileges and resources get, update, delete', T, async () => {
    const s = client.sprite(name)
    assert.deepEqual(await s.getPrivilegesPolicy(), {})
    const privileges = { profile: 'minimal', devices: ['/dev/fuse'], noNewPrivileges: true }
    await s.updatePrivilegesPolicy(privileges)
    assert.deepEqual(await s.getPrivilegesPolicy(), privileges)
    assert.deepEqual(await s.getResourcesPolicy(), { memory: undefined })
    await s.updateResourcesPolicy({ memory: { limitMB: 300, autoscale: true } })
    assert.deepEqual(await s.getResourcesPolicy(), { memory: { limitMB: 300, autoscale: true } })
    const wire = await api(conn, 'GET', path('resources'))
    assert.deepEqual(wire.json, { memory: { limit_mb: 300, autoscale: true } })
    await s.deletePrivilegesPolicy()
    assert.deepEqual(await s.getPrivilegesPolicy(), {})
    assert.deepEqual(await s.getResourcesPolicy(), { memory: { limitMB: 300, autoscale: true } })
    await s.deleteResourcesPolicy()
    assert.deepEqual(await s.getResourcesPolicy(), { memory: undefined })
    await assert.rejects(
      s.updateResourcesPolicy({ memory: { limitMB: 1 } }),
      /status 400.*limit_mb must be an integer from 64/,
    )
  })

  test('bad input: malformed JSON, wrong types, unknown sprite, foreign token', T, async () => {
    const expect = async (r: Awaited<ReturnType<typeof api>>, code: number, error: string) => {
      assert.equal(r.status, code, r.text)
      assert.equal((r.json as { error: string }).error, error)
      assert.ok(r.headers.get('sprite-version'))
    }
    const raw = { headers: { 'content-type': 'application/json' } }
    for (const kind of KINDS) {
      await expect(
        await api(conn, 'POST', path(kind), { ...raw, rawBody: '{"rules": [' }),
        400,
        'invalid_argument',
      )
      await expect(await api(conn, 'POST', path(kind), { rawBody: '[1]' }), 400, 'invalid_argument')
    }
    const wrong: [string, unknown][] = [
      ['network', { rules: { domain: 'a.b' } }],
      ['network', { rules: [{ domain: 'a.b', action: 'block' }] }],
      ['privileges', { profile: 'root' }],
      ['privileges', { devices: [7] }],
      ['privileges', { noNewPrivileges: 'yes' }],
      ['privileges', { unknown: true, profile: 'root' }],
      ['resources', { memory: { limit_mb: '512' } }],
      ['resources', { memory: { limit_mb: 512.5 } }],
      ['resources', { memory: { limit_mb: 512, autoscale: 1 } }],
    ]
    for (const [kind, body] of wrong) {
      await expect(await api(conn, 'POST', path(kind), { body }), 400, 'invalid_argument')
    }
    const foreign = await createForeignToken()
    for (const kind of KINDS) {
      await expect(await api(conn, 'GET', path(kind, 'no-such-sprite')), 404, 'sprite_not_found')
      await expect(await api(conn, 'GET', path(kind), { token: foreign }), 404, 'sprite_not_found')
      const del = kind === 'network' ? 'PUT' : 'DELETE'
      const r = await api(conn, del, path(kind), { token: foreign, body: { rules: [] } })
      await expect(r, 404, 'sprite_not_found')
      assert.equal((await api(conn, 'GET', path(kind), { token: null })).status, 401)
    }
    for (const kind of KINDS) {
      const r = await api(conn, 'GET', path(kind))
      assert.deepEqual(r.json, kind === 'network' ? { rules: [] } : {}, `${kind} unchanged`)
    }
  })

  test('resources.memory.limit_mb is the memory limit from the next cold boot', T, async () => {
    const info = (await api(conn, 'GET', `/v1/sprites/${name}`)).json as {
      config: { ram_mb: number }
    }
    await sh(conn, name, 'true')
    assert.equal(hostMemoryLimitMB(ids[0]!), info.config.ram_mb, 'no policy: config.ram_mb')
    const set = await api(conn, 'POST', path('resources'), {
      body: { memory: { limit_mb: 320, autoscale: false } },
    })
    assert.equal(set.status, 204)
    assert.equal(hostMemoryLimitMB(ids[0]!), info.config.ram_mb, 'a running sprite keeps its limit')
    await restart()
    assert.equal(hostMemoryLimitMB(ids[0]!), 320)
    assert.equal(await status(name), 'running')
    assert.equal((await api(conn, 'DELETE', path('resources'))).status, 204)
    await restart()
    assert.equal(hostMemoryLimitMB(ids[0]!), info.config.ram_mb, 'DELETE reverts at the next boot')
  })

  test(
    '/.sprite/policy/network.json: current at boot and after changes, read-only',
    T,
    async () => {
      const first = { rules: [{ domain: 'example.com', action: 'allow' }] }
      assert.equal((await api(conn, 'POST', path('network'), { body: first })).status, 204)
      await restart()
      const read = async () => JSON.parse(await sh(conn, name, `cat ${POLICY_FILE}`))
      assert.deepEqual(await read(), first, 'written at boot')
      const second = {
        rules: [{ include: 'defaults' }, { domain: '*.example.net', action: 'deny' }],
      }
      assert.equal((await api(conn, 'PUT', path('network'), { body: second })).status, 204)
      let seen: unknown
      // Written before the PUT answers; the bound only allows for a slow exec on a busy host.
      await waitUntil(
        async () => {
          seen = await read()
          return JSON.stringify(seen) === JSON.stringify(second)
        },
        4000,
        `network.json follows the change (last: ${JSON.stringify(seen)})`,
      )
      const get = await api(conn, 'GET', path('network'))
      assert.equal(
        (await sh(conn, name, `cat ${POLICY_FILE}`)).trim(),
        get.text,
        'same JSON as GET',
      )
      const attempts = [
        `echo '{"rules":[]}' > ${POLICY_FILE}`,
        `sudo sh -c 'echo {} > ${POLICY_FILE}'`,
        `sudo rm -f ${POLICY_FILE}`,
        `sudo mv ${POLICY_FILE} /tmp/x`,
        'sudo umount /.sprite/policy',
        `sudo chmod 666 ${POLICY_FILE}`,
        'sudo touch /.sprite/policy/other.json',
      ]
      for (const cmd of attempts) {
        const r = await execWS(conn, name, ['sh', '-c', cmd])
        assert.notEqual(r.code, 0, `${cmd} must fail, got: ${r.stdout}${r.stderr}`)
      }
      assert.deepEqual(await read(), second, 'nothing inside changed it')
      const hostFile = join(instanceDirs(INSTANCE).runDir, 'policy', ids[0]!, 'network.json')
      assert.deepEqual(JSON.parse(readFileSync(hostFile, 'utf8')), second)
    },
  )

  test('api.sock has no policy routes', T, async () => {
    const curl = 'curl -sS -o /dev/null -w %{http_code} --unix-socket /.sprite/api.sock'
    const body = `-H 'content-type: application/json' -d '{"rules":[]}'`
    for (const p of [
      `/v1/sprites/${name}/policy/network`,
      '/v1/policy/network',
      '/v1/policy/resources',
    ]) {
      for (const method of ['GET', 'POST', 'PUT']) {
        const code = await sh(conn, name, `${curl} -X ${method} ${body} http://sprite${p}`)
        assert.ok(['404', '403'].includes(code.trim()), `${method} ${p} on api.sock: ${code}`)
      }
    }
    const still = await api(conn, 'GET', path('network'))
    assert.notDeepEqual(still.json, { rules: [] }, 'the policy set before is still there')
  })

  test('CLI: sprite policy network shows and replaces the rules', T, async () => {
    const cli = (...args: string[]) => runCLI(['policy', 'network', ...args], { env: srv.cliEnv })
    const cleared = await cli('set', name, '--clear')
    assert.equal(cleared.code, 0, cleared.stderr)
    assert.match(cleared.stdout, /No rules/)
    const set = await cli(
      'set',
      name,
      '--allow',
      'api.example.com',
      '--deny',
      '*.bad.example',
      '--defaults',
    )
    assert.equal(set.code, 0, set.stderr)
    assert.deepEqual(set.stdout.trim().split('\n'), [
      'include defaults',
      'allow  api.example.com',
      'deny   *.bad.example',
    ])
    const shown = await cli(name, '--json')
    assert.equal(shown.code, 0, shown.stderr)
    assert.deepEqual(JSON.parse(shown.stdout), (await api(conn, 'GET', path('network'))).json)
    const bad = await cli('set', name, '--allow', 'bad..name')
    assert.equal(bad.code, 1)
    assert.ok(isOneLineError(bad.stderr), bad.stderr)
    assert.match(bad.stderr, /invalid policy: rule 0/)
    const none = await cli('set', name)
    assert.equal(none.code, 2)
    assert.ok(isOneLineError(none.stderr), none.stderr)
    const unknown = await cli('no-such-sprite')
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /sprite not found/)
    assert.equal((await cli(name)).stdout.trim().split('\n').length, 3, 'unchanged by failures')
  })

  test("a fork carries the source sprite's policies", T, async () => {
    const rules = { rules: [{ domain: 'fork.example', action: 'allow' }] }
    assert.equal((await api(conn, 'POST', path('network'), { body: rules })).status, 204)
    const memory = { memory: { limit_mb: 512, autoscale: false } }
    assert.equal((await api(conn, 'POST', path('resources'), { body: memory })).status, 204)
    const fork = uniqueName('polfork')
    names.push(fork)
    const made = await api(conn, 'POST', '/v1/sprites', {
      body: { name: fork, from: { sprite: name } },
      timeoutMs: 60_000,
    })
    assert.equal(made.status, 201, made.text)
    ids.push((made.json as { id: string }).id)
    assert.deepEqual((await api(conn, 'GET', path('network', fork))).json, rules)
    assert.deepEqual((await api(conn, 'GET', path('resources', fork))).json, memory)
    // Independent afterwards: changing the fork's policy leaves the source's alone.
    assert.equal(
      (await api(conn, 'POST', path('network', fork), { body: { rules: [] } })).status,
      204,
    )
    assert.deepEqual((await api(conn, 'GET', path('network'))).json, rules)
    assert.equal((await api(conn, 'DELETE', path('resources'))).status, 204)
  })

  test('deleting the sprites leaves nothing behind', T, async () => {
    await deleteAll(conn, names)
    const policyDirs = ids.map((id) => join(instanceDirs(INSTANCE).runDir, 'policy', id))
    for (const dir of policyDirs) assert.equal(existsSync(dir), false, `${dir} removed`)
    assert.deepEqual(countsOf(await instanceResources()), baseline)
  })
})
