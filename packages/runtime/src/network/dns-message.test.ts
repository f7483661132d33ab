import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  buildQuery,
  errorResponse,
  isQuestion,
  parseAnswer,
  parseQuery,
  RCODE,
  TYPE_A,
} from './dns-message.ts'

/** An answer to `buildQuery(id, 'www.allowed.test')`: a CNAME, then two A records, compressed. */
function answer(id: number, ttl: number): Buffer {
  const query = buildQuery(id, 'www.allowed.test')
  const header = Buffer.from(query.subarray(0, 12))
  header.writeUInt16BE(0x8180, 2)
  header.writeUInt16BE(3, 6)
  const question = query.subarray(12)
  // CNAME www.allowed.test -> cdn.allowed.test (pointer to "allowed.test" at offset 16)
  const cnameData = Buffer.from([3, ...Buffer.from('cdn'), 0xc0, 16])
  const cname = rr([0xc0, 12], 5, 60, cnameData)
  const cdnOffset = 12 + question.length + cname.length - cnameData.length
  const a1 = rr([0xc0, cdnOffset], TYPE_A, ttl, Buffer.from([198, 18, 0, 2]))
  const a2 = rr([0xc0, cdnOffset], TYPE_A, ttl, Buffer.from([198, 18, 0, 3]))
  return Buffer.concat([header, question, cname, a1, a2])
}

function rr(name: number[], type: number, ttl: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(type, 0)
  fixed.writeUInt16BE(1, 2)
  fixed.writeUInt32BE(ttl, 4)
  fixed.writeUInt16BE(data.length, 8)
  return Buffer.concat([Buffer.from(name), fixed, data])
}

test('a query gives its id, lowercased name, type and class', () => {
  const q = parseQuery(buildQuery(0x1234, 'WWW.Allowed.TEST'))
  assert.ok(q && isQuestion(q))
  assert.deepEqual(
    { id: q.id, name: q.name, qtype: q.qtype, qclass: q.qclass, rd: q.rd, end: q.end },
    { id: 0x1234, name: 'www.allowed.test', qtype: 1, qclass: 1, rd: true, end: 34 },
  )
  const root = parseQuery(buildQuery(1, ''))
  assert.ok(root && isQuestion(root))
  assert.equal(root.name, '')
})

test('label bytes outside [a-z0-9_-] are escaped, so no pattern can match them', () => {
  const q = parseQuery(
    buildQuery(7, 'evil.allowed.test'.replace('.', '\x2e').replace('l.a', 'l\x00a')),
  )
  assert.ok(q && isQuestion(q))
  assert.equal(q.name, 'evil\\000allowed.test')
  const dotted = buildQuery(8, 'x.test')
  dotted[13] = 0x2e // the label "x" becomes "."
  const d = parseQuery(dotted)
  assert.ok(d && isQuestion(d))
  assert.equal(d.name, '\\046.test')
})

test('bad queries: dropped when unanswerable, else FORMERR or NOTIMP', () => {
  assert.equal(parseQuery(Buffer.alloc(5)), undefined)
  const response = buildQuery(1, 'a.test')
  response.writeUInt16BE(0x8100, 2)
  assert.equal(parseQuery(response), undefined)
  const two = buildQuery(1, 'a.test')
  two.writeUInt16BE(2, 4)
  assert.deepEqual(parseQuery(two), { rcode: RCODE.formErr })
  const truncated = buildQuery(1, 'a.test').subarray(0, 16)
  assert.deepEqual(parseQuery(truncated), { rcode: RCODE.formErr })
  const compressed = Buffer.concat([
    buildQuery(1, '').subarray(0, 12),
    Buffer.from([0xc0, 12, 0, 1, 0, 1]),
  ])
  assert.deepEqual(parseQuery(compressed), { rcode: RCODE.formErr })
  const status = buildQuery(1, 'a.test')
  status.writeUInt16BE(2 << 11, 2)
  const p = parseQuery(status)
  assert.ok(p && !isQuestion(p))
  assert.equal(p.rcode, RCODE.notImp)
})

test('an error answer echoes id and question with the rcode', () => {
  const query = buildQuery(0xbeef, 'other.test')
  const q = parseQuery(query)
  assert.ok(q && isQuestion(q))
  const reply = errorResponse(query, RCODE.refused, q)
  assert.equal(reply.readUInt16BE(0), 0xbeef)
  assert.equal(reply.readUInt16BE(2), 0x8185) // QR, RD, RA, REFUSED
  assert.deepEqual([reply.readUInt16BE(4), reply.readUInt16BE(6)], [1, 0])
  assert.deepEqual(reply.subarray(12), query.subarray(12))
  const parsed = parseAnswer(reply)
  assert.deepEqual(parsed, {
    id: 0xbeef,
    rcode: RCODE.refused,
    truncated: false,
    question: { name: 'other.test', qtype: 1, qclass: 1 },
    records: [],
  })
  assert.equal(errorResponse(Buffer.from([1, 2]), RCODE.formErr).length, 12)
})

test('an answer gives its A records, through compression and CNAMEs', () => {
  const parsed = parseAnswer(answer(42, 300))
  assert.deepEqual(parsed, {
    id: 42,
    rcode: 0,
    truncated: false,
    question: { name: 'www.allowed.test', qtype: 1, qclass: 1 },
    records: [
      { address: '198.18.0.2', ttl: 300 },
      { address: '198.18.0.3', ttl: 300 },
    ],
  })
})

test('malformed answers are rejected: truncated data, pointer loops, queries', () => {
  const full = answer(42, 300)
  assert.equal(parseAnswer(full.subarray(0, full.length - 2)), undefined)
  assert.equal(parseAnswer(buildQuery(1, 'a.test')), undefined)
  const loop = Buffer.from(full)
  loop[12] = 0xc0
  loop[13] = 12 // the question's name points at itself
  assert.equal(parseAnswer(loop), undefined)
  const forward = Buffer.from(full)
  forward.writeUInt16BE(9, 6) // claims 9 answers
  assert.equal(parseAnswer(forward), undefined)
})
