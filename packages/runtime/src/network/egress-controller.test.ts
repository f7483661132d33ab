import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noopLogger } from '@sprites/protocol'
import type { RunCommand } from '../host/run-command.ts'
import { EgressController, EgressFailedClosedError } from './egress-controller.ts'

/** A controller without its resolver process: every policy takes the direct `nft -f` path. */
function setUp(nftWorks: boolean, cutWorks = true) {
  const calls: string[] = []
  const exec: RunCommand = async (file, args, input) => {
    calls.push(`${file} ${args.join(' ')}: ${input ?? ''}`.trim())
    return nftWorks
      ? { code: 0, stdout: '', stderr: '' }
      : { code: 1, stdout: '', stderr: 'Error: no such table' }
  }
  const cut: number[] = []
  const egress = new EgressController({
    table: 'sprites',
    subnet: '10.201.0.0/16',
    prefix: ['ip', 'netns', 'exec', 'rt'],
    upstreams: [],
    resolver: false,
    exec,
    log: noopLogger,
    cutLink: async (slot) => {
      if (!cutWorks) throw new Error('ip broke too')
      cut.push(slot)
    },
  })
  return { egress, calls, cut }
}

const rules = [{ domain: 'allowed.test', action: 'allow' as const }]

test('without the resolver an enforced sprite denies everything, and the caller learns it', async () => {
  const t = setUp(true)
  const err = await t.egress.set(1, rules).catch((e: unknown) => e)
  assert.ok(err instanceof EgressFailedClosedError, String(err))
  assert.equal(t.calls.length, 1)
  const call = t.calls[0] ?? ''
  assert.match(call, /^ip netns exec rt nft -f -: add set inet sprites allow_1/)
  assert.match(call, /flush set inet sprites allow_1; add chain/)
  assert.match(call, /add element inet sprites egress \{ 10\.201\.0\.6 : jump egress_1 \}/)
  assert.deepEqual(t.cut, [])
})

test('lifting a policy without the resolver works and is no error', async () => {
  const t = setUp(true)
  await t.egress.set(2, [])
  assert.match(t.calls[0] ?? '', /delete element inet sprites egress \{ 10\.201\.0\.10 \}/)
})

test('when nft fails too, the link goes down; when that fails, the error says so', async () => {
  const t = setUp(false)
  await assert.rejects(t.egress.set(3, rules), EgressFailedClosedError)
  assert.deepEqual(t.cut, [3])
  await t.egress.set(3, []) // an unrestricted sprite is not cut off for a failed lift
  assert.deepEqual(t.cut, [3])
  const broken = setUp(false, false)
  await assert.rejects(broken.egress.set(4, rules), /ip broke too/)
})

test('release removes the rules of a known slot only', async () => {
  const t = setUp(true)
  await t.egress.release(5)
  assert.equal(t.calls.length, 0)
  await t.egress.set(5, [])
  await t.egress.release(5)
  assert.equal(t.calls.length, 2)
  assert.match(t.calls[1] ?? '', /delete chain inet sprites egress_5/)
})
