/**
 * The few parts of DNS messages (RFC 1035) the egress resolver reads and writes: the question of
 * a query, error answers built from it, and the A records of an upstream answer. Pure functions
 * over Buffers; nothing here touches the network.
 */

/** Response codes the resolver sends or reads. */
export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 }

/** Record type A and class IN. */
export const TYPE_A = 1
export const CLASS_IN = 1

const HEADER_BYTES = 12
const MAX_NAME_BYTES = 255
const MAX_POINTER_JUMPS = 64

/** The question of a standard query, as read from the client. */
export interface DnsQuestion {
  id: number
  opcode: number
  /** Recursion desired, copied into answers. */
  rd: boolean
  /**
   * Lowercased, without the trailing dot (`''` for the root). Label bytes outside
   * `[a-z0-9_-]` are written `\ddd`, so such a name never matches a policy pattern.
   */
  name: string
  qtype: number
  qclass: number
  /** Offset just past the question: `query.subarray(12, end)` is the question section. */
  end: number
}

/** Why a query cannot be answered normally: the rcode to send back. */
export type QueryProblem = { rcode: number; question?: DnsQuestion }

/** One A record of an answer. */
export interface ARecord {
  address: string
  ttl: number
}

/** What the resolver needs from an upstream answer. */
export interface DnsAnswer {
  id: number
  rcode: number
  /** Truncated (TC): the client retries over TCP. */
  truncated: boolean
  question: Pick<DnsQuestion, 'name' | 'qtype' | 'qclass'> | undefined
  records: ARecord[]
}

/**
 * Reads a client's query. Returns the question, or the rcode to answer with when the message is
 * not a single-question standard query (FORMERR, NOTIMP), or undefined when it is too short to
 * answer at all (or is itself a response) and must be dropped.
 */
export function parseQuery(msg: Buffer): DnsQuestion | QueryProblem | undefined {
  if (msg.length < HEADER_BYTES) return undefined
  const flags = msg.readUInt16BE(2)
  if (flags & 0x8000) return undefined
  const opcode = (flags >> 11) & 0xf
  const base = { id: msg.readUInt16BE(0), opcode, rd: (flags & 0x0100) !== 0 }
  if (msg.readUInt16BE(4) !== 1) return { rcode: RCODE.formErr }
  const name = readName(msg, HEADER_BYTES, false)
  if (!name || name.end + 4 > msg.length) return { rcode: RCODE.formErr }
  const question: DnsQuestion = {
    ...base,
    name: name.name,
    qtype: msg.readUInt16BE(name.end),
    qclass: msg.readUInt16BE(name.end + 2),
    end: name.end + 4,
  }
  if (opcode !== 0) return { rcode: RCODE.notImp, question }
  return question
}

/** True when {@link parseQuery} gave a question, not a problem. */
export function isQuestion(q: DnsQuestion | QueryProblem): q is DnsQuestion {
  return 'name' in q
}

/**
 * An answer with no records and `rcode` (REFUSED, SERVFAIL, ...) to `query`: same id and opcode,
 * RD copied, RA set, the question echoed when it could be read.
 */
export function errorResponse(query: Buffer, rcode: number, question?: DnsQuestion): Buffer {
  const qsection = question ? query.subarray(HEADER_BYTES, question.end) : Buffer.alloc(0)
  const out = Buffer.alloc(HEADER_BYTES + qsection.length)
  out.writeUInt16BE(query.length >= 2 ? query.readUInt16BE(0) : 0, 0)
  const opcode = query.length >= 4 ? (query.readUInt16BE(2) >> 11) & 0xf : 0
  const rd = query.length >= 4 ? query.readUInt16BE(2) & 0x0100 : 0
  out.writeUInt16BE(0x8000 | (opcode << 11) | rd | 0x0080 | (rcode & 0xf), 2)
  out.writeUInt16BE(question ? 1 : 0, 4)
  qsection.copy(out, HEADER_BYTES)
  return out
}

/**
 * Reads an upstream answer: id, rcode, TC, its (first) question and every A/IN record of the
 * answer section (also those of CNAME targets). Undefined for a malformed message or a query.
 */
export function parseAnswer(msg: Buffer): DnsAnswer | undefined {
  if (msg.length < HEADER_BYTES) return undefined
  const flags = msg.readUInt16BE(2)
  if (!(flags & 0x8000)) return undefined
  let offset = HEADER_BYTES
  let question: DnsAnswer['question']
  for (let i = 0; i < msg.readUInt16BE(4); i++) {
    const name = readName(msg, offset, true)
    if (!name || name.end + 4 > msg.length) return undefined
    if (i === 0) {
      const qtype = msg.readUInt16BE(name.end)
      question = { name: name.name, qtype, qclass: msg.readUInt16BE(name.end + 2) }
    }
    offset = name.end + 4
  }
  const records: ARecord[] = []
  for (let i = 0; i < msg.readUInt16BE(6); i++) {
    const name = readName(msg, offset, true)
    if (!name || name.end + 10 > msg.length) return undefined
    const type = msg.readUInt16BE(name.end)
    const klass = msg.readUInt16BE(name.end + 2)
    const ttl = msg.readUInt32BE(name.end + 4)
    const length = msg.readUInt16BE(name.end + 8)
    const data = name.end + 10
    if (data + length > msg.length) return undefined
    if (type === TYPE_A && klass === CLASS_IN && length === 4) {
      records.push({ address: [...msg.subarray(data, data + 4)].join('.'), ttl })
    }
    offset = data + length
  }
  return {
    id: msg.readUInt16BE(0),
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    question,
    records,
  }
}

/**
 * Reads a (possibly compressed) domain name at `offset`. `end` is the offset after the name as
 * it is stored there (after the first pointer when compressed).
 */
function readName(
  msg: Buffer,
  offset: number,
  allowPointers: boolean,
): { name: string; end: number } | undefined {
  const labels: string[] = []
  let at = offset
  let end: number | undefined
  let bytes = 0
  for (let jumps = 0; jumps <= MAX_POINTER_JUMPS; ) {
    if (at >= msg.length) return undefined
    const len = msg[at] as number
    if (len === 0) return { name: labels.join('.'), end: end ?? at + 1 }
    if ((len & 0xc0) === 0xc0) {
      if (!allowPointers || at + 1 >= msg.length) return undefined
      end ??= at + 2
      at = ((len & 0x3f) << 8) | (msg[at + 1] as number)
      jumps++
      continue
    }
    if (len & 0xc0 || at + 1 + len > msg.length) return undefined
    bytes += len + 1
    if (bytes > MAX_NAME_BYTES) return undefined
    labels.push(labelText(msg.subarray(at + 1, at + 1 + len)))
    at += 1 + len
  }
  return undefined
}

/** A label as text: `[a-z0-9_-]` as is (ASCII letters lowercased), any other byte as `\ddd`. */
function labelText(label: Buffer): string {
  let out = ''
  for (const byte of label) {
    const c = byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte
    const plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f
    out += plain ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`
  }
  return out
}

/** A standard query for `name` (tests and benchmarks). */
export function buildQuery(id: number, name: string, qtype = TYPE_A): Buffer {
  const labels = name === '' ? [] : name.split('.')
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ])
  const out = Buffer.alloc(HEADER_BYTES + qname.length + 4)
  out.writeUInt16BE(id, 0)
  out.writeUInt16BE(0x0100, 2)
  out.writeUInt16BE(1, 4)
  qname.copy(out, HEADER_BYTES)
  out.writeUInt16BE(qtype, HEADER_BYTES + qname.length)
  out.writeUInt16BE(CLASS_IN, HEADER_BYTES + qname.length + 2)
  return out
}
