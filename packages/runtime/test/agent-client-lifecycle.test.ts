import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { encodeFrame, FrameType } from '../src/agent/index.ts'
import type { SandboxProcess } from '../src/runtime-driver.ts'
import { BASE, collect, isAlive, ROOT_SKIP, startAgent, waitUntil } from './agent-helpers.ts'

function firstLine(proc: SandboxProcess): Promise<string> {
  return new Promise((resolve) => proc.once('stdout', (b: Buffer) => resolve(b.toString().trim())))
}

/** Starts a plain sleep, one inside sh -c and one that left the group with setsid. */
async function startSleepers(agent: Awaited<ReturnType<typeof startAgent>>) {
  const plain = await agent.client.spawn({ ...BASE, argv: ['sleep', '60'] })
  const nested = await agent.client.spawn({
    ...BASE,
    argv: ['sh', '-c', 'sleep 61 & echo $!; wait'],
  })
  const nestedChild = firstLine(nested) // listeners go on right after spawn resolves
  const detached = await agent.client.spawn({
    ...BASE,
    argv: ['sh', '-c', 'setsid sleep 62 & echo $!; wait'],
  })
  const detachedChild = firstLine(detached)
  const pids = [plain.pid, nested.pid, detached.pid]
  pids.push(Number(await nestedChild), Number(await detachedChild))
  return { procs: [plain, nested, detached], pids }
}

test('closing the socket makes the agent kill every process and exit', {
  skip: ROOT_SKIP,
}, async () => {
  const agent = await startAgent()
  const { procs, pids } = await startSleepers(agent)
  assert.ok(pids.every(isAlive))
  const exits = procs.map((p) => collect(p))
  const agentExit = once(agent.child, 'exit')
  await agent.client.close()
  const [code] = await agentExit
  assert.equal(code, 0)
  for (const r of await Promise.all(exits)) assert.deepEqual([r.code, r.signal], [255, 9])
  assert.ok(
    await waitUntil(() => !pids.some(isAlive), 2000),
    `still alive: ${pids.filter(isAlive)}`,
  )
})

test('an oversized frame makes the agent log, clean up and exit', { skip: ROOT_SKIP }, async () => {
  const agent = await startAgent()
  const { pids } = await startSleepers(agent)
  const agentExit = once(agent.child, 'exit')
  const closed = once(agent.client, 'close')
  const header = Buffer.from('02000000017fffffff', 'hex')
  agent.socket.write(header)
  const [code] = await agentExit
  await closed
  assert.equal(code, 2)
  assert.match(agent.logs(), /protocol error: frame of 2147483647 bytes/)
  assert.ok(
    await waitUntil(() => !pids.some(isAlive), 2000),
    `still alive: ${pids.filter(isAlive)}`,
  )
})

test('malformed but bounded frames are ignored', { skip: ROOT_SKIP }, async (t) => {
  const agent = await startAgent()
  t.after(() => agent.stop())
  const junk = [
    encodeFrame(0x42, 0, Buffer.from('unknown type')),
    encodeFrame(FrameType.STDIN, 999, Buffer.from('no such channel')),
    encodeFrame(FrameType.SIGNAL, 999, Buffer.from([200])),
    encodeFrame(FrameType.RESIZE, 999, Buffer.from([1])),
    encodeFrame(FrameType.SPAWN, 77, Buffer.from('01ffffffff', 'hex')),
    encodeFrame(FrameType.SPAWN, 78, Buffer.from('0100000003610062', 'hex')),
    encodeFrame(FrameType.SPAWN, 0, Buffer.alloc(0)),
  ]
  for (const frame of junk) agent.socket.write(frame)
  assert.equal(typeof (await agent.client.ping()), 'number')
  const proc = await agent.client.spawn({ ...BASE, argv: ['echo', 'still fine'] })
  assert.equal((await collect(proc)).stdout, 'still fine\n')
})

test('a stdin queue above 64 MiB gets the process killed', { skip: ROOT_SKIP }, async (t) => {
  const agent = await startAgent()
  t.after(() => agent.stop())
  // sleep never reads stdin, so everything past the pipe buffer stays queued in the agent.
  const proc = await agent.client.spawn({ ...BASE, argv: ['sleep', '30'], stdin: true })
  const result = collect(proc)
  const chunk = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < 70 && !proc.exited; i++) {
    if (!proc.write(chunk)) await once(agent.client, 'drain')
  }
  const r = await result
  assert.deepEqual([r.code, r.signal], [137, 9])
  assert.match(agent.logs(), /stdin queued, killing it/)
})
