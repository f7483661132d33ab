import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { type TestContext, test } from 'node:test'
import { buildQuery, parseAnswer, RCODE } from './dns-message.ts'
import { createUpstream, frame } from './dns-upstream.ts'

/** A reply to `query` with `rcode` (only the header changes). */
function reply(query: Buffer, rcode: number, id = query.readUInt16BE(0)): Buffer {
  const out = Buffer.from(query)
  out.writeUInt16BE(id, 0)
  out.writeUInt16BE(0x8180 | rcode, 2)
  return out
}

async function udpServer(
  t: TestContext,
  answer: (q: Buffer) => Buffer[],
  at = { port: 0, address: '127.0.0.1' },
): Promise<number> {
  const s = createSocket('udp4')
  s.on('message', (msg, r) => {
    for (const a of answer(msg)) s.send(a, r.port, r.address)
  })
  s.bind(at.port, at.address)
  await once(s, 'listening')
  t.after(() => s.close())
  return s.address().port
}

test('UDP: the answer with the query id comes back; others are ignored', async (t) => {
  const port = await udpServer(t, (q) => [reply(q, RCODE.refused, 999), reply(q, RCODE.nxDomain)])
  const forward = createUpstream({ servers: ['127.0.0.1'], port, timeoutMs: 1000 })
  const a = parseAnswer(await forward(buildQuery(4321, 'a.test'), 'udp'))
  assert.equal(a?.id, 4321)
  assert.equal(a?.rcode, RCODE.nxDomain)
})

test('UDP: a silent server is given up after the timeout, then the next one answers', async (t) => {
  const port = await udpServer(t, () => [])
  const forward = createUpstream({ servers: ['127.0.0.1', '127.0.0.2'], port, timeoutMs: 150 })
  const started = Date.now()
  await assert.rejects(forward(buildQuery(1, 'a.test'), 'udp'), /ECONNREFUSED/)
  await udpServer(t, (q) => [reply(q, RCODE.noError)], { port, address: '127.0.0.2' })
  const a = parseAnswer(await forward(buildQuery(2, 'a.test'), 'udp'))
  assert.equal(a?.id, 2)
  assert.ok(Date.now() - started < 2000, 'one 150 ms timeout, not a stall')
  const alone = createUpstream({ servers: ['127.0.0.1'], port, timeoutMs: 150 })
  await assert.rejects(alone(buildQuery(3, 'a.test'), 'udp'), /no answer in 150 ms/)
  await assert.rejects(
    createUpstream({ servers: [] })(buildQuery(1, 'a.test'), 'udp'),
    /no upstream/,
  )
})

test('TCP: length-prefixed, also when the answer arrives in pieces', async (t) => {
  const server = createServer((c) => {
    c.once('data', (d: Buffer) => {
      const framed = frame(reply(d.subarray(2), RCODE.noError))
      c.write(framed.subarray(0, 3))
      setTimeout(() => c.end(framed.subarray(3)), 20)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const port = (server.address() as { port: number }).port
  const forward = createUpstream({ servers: ['127.0.0.1'], port, timeoutMs: 1000 })
  const a = parseAnswer(await forward(buildQuery(55, 'b.test'), 'tcp'))
  assert.deepEqual([a?.id, a?.rcode, a?.question?.name], [55, 0, 'b.test'])
})
