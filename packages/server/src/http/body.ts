import type { IncomingMessage } from 'node:http'
import { SpritesError } from '@sprites/protocol'

/** Bytes read and discarded past the cap so the client can still receive the 413. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024

/**
 * Reads a request body of at most `maxBytes`. Past the cap the rest is drained (up to
 * {@link DRAIN_LIMIT_BYTES}) and the promise rejects with `payload_too_large`.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const tooLarge = () =>
      new SpritesError('payload_too_large', `request body exceeds ${maxBytes} bytes`, {
        details: { limit: maxBytes },
      })
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) chunks.push(chunk)
      else if (size > maxBytes + DRAIN_LIMIT_BYTES) {
        req.removeAllListeners('data')
        req.pause()
        reject(tooLarge())
      }
    })
    req.on('end', () => (size > maxBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks))))
    req.on('error', (err) => reject(err))
  })
}

/**
 * Parses a JSON request body. An empty body is `{}`; a non-empty one is parsed as JSON whatever
 * its `Content-Type`.
 * @throws SpritesError payload_too_large (413) above `maxBytes`, invalid_argument (400) for bad JSON.
 */
export async function readJSON(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJSONBody(await readBody(req, maxBytes))
}

/** The pure part of {@link readJSON}. */
export function parseJSONBody(raw: Buffer): unknown {
  const text = raw.toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new SpritesError(
      'invalid_argument',
      `request body is not valid JSON: ${(err as Error).message}`,
    )
  }
}
