import { Transform } from 'node:stream'

/** Length of the longest end of `data` that is a start of `secret` (a possibly split secret). */
function heldBack(data: Buffer, secret: Buffer): number {
  for (let k = Math.min(secret.length - 1, data.length); k > 0; k--) {
    if (data.subarray(data.length - k).equals(secret.subarray(0, k))) return k
  }
  return 0
}

function replaceAll(data: Buffer, secret: Buffer, replacement: Buffer): Buffer {
  const parts: Buffer[] = []
  let from = 0
  for (let i = data.indexOf(secret); i >= 0; i = data.indexOf(secret, from)) {
    parts.push(data.subarray(from, i), replacement)
    from = i + secret.length
  }
  parts.push(data.subarray(from))
  return Buffer.concat(parts)
}

/**
 * A stream that copies its input with every occurrence of `secret` replaced, also when a chunk
 * boundary splits it; only the bytes that may start the secret wait for the next chunk.
 * @example child.stderr.pipe(createRedactor(token)).pipe(process.stderr)
 */
export function createRedactor(secret: string, replacement = '<redacted>'): Transform {
  const s = Buffer.from(secret)
  const r = Buffer.from(replacement)
  let pending = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (s.length === 0) return done(null, chunk)
      const data = replaceAll(Buffer.concat([pending, chunk]), s, r)
      const keep = heldBack(data, s)
      pending = Buffer.from(data.subarray(data.length - keep))
      done(null, data.subarray(0, data.length - keep))
    },
    flush(done) {
      done(null, pending)
    },
  })
}
