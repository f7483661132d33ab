import assert from 'node:assert/strict'
import { test } from 'node:test'
import { expandNetworkRules, noopLogger } from '@sprites/protocol'
import { buildQuery, parseAnswer, RCODE, TYPE_A } from './dns-message.ts'
import { EgressResolver, MIN_ALLOW_S, type SpriteEgress } from './egress-resolver.ts'

/** An upstream that answers `<x>.test` with the addresses in `zone` (TTL `ttl`). */
function fakeUpstream(zone: Record<string, string[]>, ttl = 60) {
  const asked: string[] = []
  const forward = async (query: Buffer) => {
    const name = parseName(query)
    asked.push(name)
    const addresses = zone[name.toLowerCase()] ?? []
    const header = Buffer.from(query.subarray(0, 12))
    header.writeUInt16BE(0x8180 | (addresses.length ? 0 : RCODE.nxDomain), 2)
    header.writeUInt16BE(addresses.length, 6)
    const records = addresses.map((a) => {
      const rr = Buffer.alloc(16)
      rr.writeUInt16BE(0xc00c, 0)
      rr.writeUInt16BE(TYPE_A, 2)
      rr.writeUInt16BE(1, 4)
      rr.writeUInt32BE(ttl, 6)
      rr.writeUInt16BE(4, 10)
      Buffer.from(a.split('.').map(Number)).copy(rr, 12)
      return rr
    })
    return Buffer.concat([header, query.subarray(12), ...records])
  }
  return { forward, asked }
}

function parseName(query: Buffer): string {
  const labels: string[] = []
  for (let at = 12; query[at] !== 0; at += (query[at] as number) + 1) {
    labels.push(query.subarray(at + 1, at + 1 + (query[at] as number)).toString())
  }
  return labels.join('.')
}

function setUp(zone: Record<string, string[]> = {}, ttl = 60) {
  const batches: string[] = []
  let failNft = false
  let now = 1_000_000
  const upstream = fakeUpstream(zone, ttl)
  const resolver = new EgressResolver({
    table: 'sprites',
    nft: async (b) => {
      if (failNft) throw new Error('nft broke')
      batches.push(b)
    },
    forward: upstream.forward,
    log: noopLogger,
    now: () => now,
  })
  const ask = async (name: string, source = '10.201.0.6') => {
    const reply = await resolver.answer(buildQuery(77, name), source, 'udp')
    assert.ok(reply)
    return parseAnswer(reply)
  }
  return {
    resolver,
    batches,
    upstream,
    ask,
    failNft: (v: boolean) => {
      failNft = v
    },
    tick: (ms: number) => {
      now += ms
    },
  }
}

const sprite = (rules: SpriteEgress['rules'], generation = 5): SpriteEgress => ({
  slot: 1,
  address: '10.201.0.6',
  gateway: '10.201.0.5',
  rules,
  generation,
})
const allow = (domain: string) => ({ domain, action: 'allow' as const })

test('unknown sources are refused; sprites without rules get every answer and no nft', async () => {
  const t = setUp({ 'a.test': ['198.18.0.2'] })
  assert.equal((await t.ask('a.test'))?.rcode, RCODE.refused)
  await t.resolver.setSprite(sprite([]))
  assert.match(t.batches.splice(0).join(), /delete element inet sprites egress \{ 10\.201\.0\.6 \}/)
  const a = await t.ask('a.test')
  assert.deepEqual(a?.records, [{ address: '198.18.0.2', ttl: 60 }])
  assert.equal((await t.ask('nothing.test'))?.rcode, RCODE.nxDomain)
  assert.deepEqual(t.batches, [])
})

test('enforced: denied names are REFUSED without asking upstream', async () => {
  const t = setUp({ 'allowed.test': ['198.18.0.2'], 'other.test': ['198.18.0.3'] })
  await t.resolver.setSprite(sprite([allow('allowed.test')]))
  assert.match(t.batches.splice(0).join(), /jump egress_1/)
  const r = await t.ask('other.test')
  assert.equal(r?.rcode, RCODE.refused)
  assert.deepEqual(r?.question, { name: 'other.test', qtype: 1, qclass: 1 })
  assert.deepEqual(t.upstream.asked, [])
  assert.deepEqual(t.batches, [])
})

test('enforced: allowed answers enter the set before the answer, for at least the minimum', async () => {
  const t = setUp({ 'allowed.test': ['198.18.0.2', '198.18.0.4'] }, 0)
  await t.resolver.setSprite(
    sprite(expandNetworkRules([allow('*.allowed.test'), allow('allowed.test')])),
  )
  t.batches.length = 0
  const r = await t.ask('ALLOWED.test')
  assert.equal(r?.rcode, RCODE.noError)
  assert.equal(r?.records.length, 2)
  assert.deepEqual(t.batches, [
    [
      `add element inet sprites allow_1 { 198.18.0.2 timeout ${MIN_ALLOW_S}s }`,
      'delete element inet sprites allow_1 { 198.18.0.2 }',
      `add element inet sprites allow_1 { 198.18.0.2 timeout ${MIN_ALLOW_S}s }`,
      `add element inet sprites allow_1 { 198.18.0.4 timeout ${MIN_ALLOW_S}s }`,
      'delete element inet sprites allow_1 { 198.18.0.4 }',
      `add element inet sprites allow_1 { 198.18.0.4 timeout ${MIN_ALLOW_S}s }`,
    ].join('; '),
  ])
})

test('when the set cannot be updated the answer is SERVFAIL, never the addresses', async () => {
  const t = setUp({ 'allowed.test': ['198.18.0.2'] })
  await t.resolver.setSprite(sprite([allow('allowed.test')]))
  t.failNft(true)
  const r = await t.ask('allowed.test')
  assert.equal(r?.rcode, RCODE.servFail)
  assert.deepEqual(r?.records, [])
})

test('upstream failures and mismatched answers are SERVFAIL', async () => {
  const t = setUp()
  const resolver = new EgressResolver({
    table: 'sprites',
    nft: async () => undefined,
    forward: async (q) =>
      q[13] === 1 ? Promise.reject(new Error('down')) : buildQuery(1, 'x.test'),
    log: noopLogger,
  })
  await resolver.setSprite(sprite([]))
  for (const name of ['a.test', 'bb.test']) {
    const reply = await resolver.answer(buildQuery(9, name), '10.201.0.6', 'tcp')
    assert.equal(parseAnswer(reply as Buffer)?.rcode, RCODE.servFail, name)
  }
  assert.ok(t)
})

test('a policy change keeps remembered addresses whose names stay allowed, flushes the rest', async () => {
  const t = setUp({ 'a.test': ['198.18.0.2'], 'b.test': ['198.18.0.3'] }, 30)
  await t.resolver.setSprite(sprite([]))
  await t.ask('a.test')
  await t.ask('b.test')
  t.tick(10_000)
  t.batches.length = 0
  await t.resolver.setSprite(sprite([allow('a.test')], 6))
  const [batch] = t.batches.splice(0)
  assert.match(
    batch ?? '',
    /flush set inet sprites allow_1; add element inet sprites allow_1 \{ 198\.18\.0\.2 timeout 20s \}; /,
  )
  assert.doesNotMatch(batch ?? '', /198\.18\.0\.3/)
  assert.match(batch ?? '', /ct mark 6 accept/)
  t.tick(25_000) // a.test's answer has expired
  await t.resolver.setSprite(sprite([allow('a.test'), allow('b.test')], 7))
  assert.doesNotMatch(t.batches.splice(0).join(), /add element inet sprites allow_1 \{/)
})

test('a restore rewrites the chain but leaves the set alone', async () => {
  const t = setUp()
  await t.resolver.setSprite(sprite([allow('a.test')], 9), true)
  const [batch] = t.batches
  assert.doesNotMatch(batch ?? '', /flush set/)
  assert.match(batch ?? '', /ct mark 9 accept/)
})

test('a name denied while its query was upstream is REFUSED', async () => {
  let release: () => void = () => undefined
  const gate = new Promise<void>((r) => {
    release = r
  })
  const upstream = fakeUpstream({ 'a.test': ['198.18.0.2'] })
  const batches: string[] = []
  const resolver = new EgressResolver({
    table: 'sprites',
    nft: async (b) => {
      batches.push(b)
    },
    forward: async (q) => {
      await gate
      return upstream.forward(q)
    },
    log: noopLogger,
  })
  await resolver.setSprite(sprite([allow('a.test')]))
  const pending = resolver.answer(buildQuery(3, 'a.test'), '10.201.0.6', 'udp')
  await resolver.setSprite(sprite([allow('b.test')], 6))
  release()
  assert.equal(parseAnswer((await pending) as Buffer)?.rcode, RCODE.refused)
  assert.ok(!batches.some((b) => b.includes('198.18.0.2')))
})

test('forgetting a sprite removes its rules and refuses its queries', async () => {
  const t = setUp({ 'a.test': ['198.18.0.2'] })
  await t.resolver.setSprite(sprite([]))
  assert.deepEqual(t.resolver.gateways(), ['10.201.0.5'])
  t.batches.length = 0
  await t.resolver.forget('10.201.0.6')
  assert.match(t.batches.join(), /delete chain inet sprites egress_1/)
  assert.deepEqual(t.resolver.gateways(), [])
  assert.equal((await t.ask('a.test'))?.rcode, RCODE.refused)
})
