import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, type TestContext, test } from 'node:test'
import {
  type AgentFixture,
  BASE,
  collect,
  isAlive,
  ROOT_SKIP,
  run,
  startAgent,
  waitUntil,
} from './agent-helpers.ts'

describe('sprite-agent: processes', { skip: ROOT_SKIP }, () => {
  let agent: AgentFixture
  let dir: string
  before(async () => {
    agent = await startAgent()
    dir = mkdtempSync(join(tmpdir(), 'agent-test-'))
  })
  after(async () => {
    await agent?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('READY carries the version and PING answers', async () => {
    assert.match(agent.client.version ?? '', /^sprite-agent\//)
    assert.equal(typeof (await agent.client.ping()), 'number')
  })

  test('keeps stdout and stderr apart', async () => {
    const r = await run(agent.client, { argv: ['sh', '-c', 'echo out; echo err >&2'] })
    assert.deepEqual([r.stdout, r.stderr, r.code, r.signal], ['out\n', 'err\n', 0, null])
  })

  test('reports exit codes 0 and 42', async () => {
    assert.equal((await run(agent.client, { argv: ['true'] })).code, 0)
    assert.equal((await run(agent.client, { argv: ['sh', '-c', 'exit 42'] })).code, 42)
  })

  test('a process killed by SIGTERM exits 143 with signal 15', async () => {
    const proc = await agent.client.spawn({ ...BASE, argv: ['sleep', '30'] })
    const result = collect(proc)
    proc.signal(15)
    const r = await result
    assert.deepEqual([r.code, r.signal], [143, 15])
  })

  test('signal() reaches a child of sh -c through the process group', async () => {
    const proc = await agent.client.spawn({
      ...BASE,
      argv: ['sh', '-c', 'sleep 30 & echo $!; wait'],
    })
    const result = collect(proc)
    const sleepPid = await new Promise<number>((resolve) =>
      proc.once('stdout', (b: Buffer) => resolve(Number(b.toString().trim()))),
    )
    assert.ok(isAlive(sleepPid))
    proc.signal(15)
    assert.equal((await result).code, 143)
    assert.ok(await waitUntil(() => !isAlive(sleepPid), 2000), 'the background sleep is gone')
  })

  test('reaps orphans reparented to it', async () => {
    const r = await run(agent.client, { argv: ['sh', '-c', 'sleep 0.1 & echo $!'] })
    const orphan = Number(r.stdout.trim())
    assert.ok(await waitUntil(() => !existsSync(`/proc/${orphan}`), 2000), 'no zombie is left')
  })

  test('passes 1 MiB of stdin through wc -c', async () => {
    const r = await run(
      agent.client,
      { argv: ['wc', '-c'], stdin: true },
      Buffer.alloc(2 ** 20, 97),
    )
    assert.equal(r.stdout.trim(), '1048576')
  })

  test('STDIN_EOF ends cat; stdin=false gives /dev/null', async () => {
    const r = await run(agent.client, { argv: ['cat'], stdin: true }, Buffer.from('abc'))
    assert.deepEqual([r.stdout, r.code], ['abc', 0])
    const none = await run(agent.client, { argv: ['cat'], stdin: false })
    assert.deepEqual([none.stdout, none.code], ['', 0])
  })

  test('relays 5 MB of random bytes intact', async () => {
    const file = join(dir, 'random.bin')
    const r = await run(agent.client, {
      argv: ['sh', '-c', `head -c 5000000 /dev/urandom | tee ${file}`],
    })
    assert.equal(r.code, 0)
    assert.equal(r.stdoutBytes.length, 5_000_000)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    assert.equal(sha(r.stdoutBytes), sha(readFileSync(file)))
  })

  test('applies uid, gid and supplementary groups', async () => {
    const r = await run(agent.client, {
      argv: ['sh', '-c', 'id -u; id -g; id -G'],
      uid: 1001,
      gid: 1001,
      groups: [27],
    })
    const [uid, gid, groups] = r.stdout.trim().split('\n')
    assert.deepEqual([uid, gid], ['1001', '1001'])
    assert.deepEqual(new Set(groups?.split(' ')), new Set(['1001', '27']))
  })

  test('applies cwd and exactly the given environment', async () => {
    assert.equal((await run(agent.client, { argv: ['pwd'], cwd: '/tmp' })).stdout, '/tmp\n')
    const r = await run(agent.client, { argv: ['/usr/bin/env'], env: ['A=1', 'B=two words'] })
    assert.equal(r.stdout, 'A=1\nB=two words\n')
  })

  test('spawn failures are in-band: 127, 126 and 1', async () => {
    const missing = await run(agent.client, { argv: ['no-such-program-x'] })
    assert.equal(missing.code, 127)
    assert.match(missing.stderr, /no-such-program-x: command not found/)
    const missingPath = await run(agent.client, { argv: ['/nonexistent/prog'] })
    assert.equal(missingPath.code, 127)
    const file = join(dir, 'not-executable')
    writeFileSync(file, 'echo hi\n')
    chmodSync(file, 0o644)
    const denied = await run(agent.client, { argv: [file] })
    assert.equal(denied.code, 126)
    assert.match(denied.stderr, /Permission denied/)
    const badCwd = await run(agent.client, { argv: ['true'], cwd: '/nonexistent-dir' })
    assert.equal(badCwd.code, 1)
    assert.match(badCwd.stderr, /nonexistent-dir/)
  })

  test('SPAWN_FAILED rejects with agent_spawn_failed', async () => {
    await assert.rejects(agent.client.spawn({ ...BASE, argv: [] }), {
      code: 'agent_spawn_failed',
    })
  })

  test('a background child holding stdout delays EXIT by about 1 s only', async () => {
    const started = Date.now()
    const r = await run(agent.client, { argv: ['sh', '-c', 'sleep 5 & echo hi'] })
    const elapsed = Date.now() - started
    assert.deepEqual([r.stdout, r.code], ['hi\n', 0])
    assert.ok(elapsed >= 900 && elapsed < 3000, `EXIT after ${elapsed} ms (not the 5 s sleep)`)
  })

  test('runs 50 processes concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        run(agent.client, { argv: ['sh', '-c', 'sleep 0.2; echo $0', `p${i}`] }),
      ),
    )
    for (const [i, r] of results.entries()) assert.deepEqual([r.stdout, r.code], [`p${i}\n`, 0])
  })

  test('spawn to exit round trip of true', async (t: TestContext) => {
    const times: number[] = []
    for (let i = 0; i < 50; i++) {
      const started = performance.now()
      await run(agent.client, { argv: ['/bin/true'] })
      times.push(performance.now() - started)
    }
    times.sort((a, b) => a - b)
    const median = times[25]!
    t.diagnostic(`spawn->exit of true: median ${median.toFixed(2)} ms (50 runs)`)
    t.assert.ok(median < 200)
  })
})
