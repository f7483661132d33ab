/**
 * Non-TTY exec framing (sprites-api.md §3.4): each binary WebSocket message (or HTTP chunk of
 * `POST /exec`) is one stream byte followed by the payload. No length prefix.
 */
export const StreamID = { Stdin: 0, Stdout: 1, Stderr: 2, Exit: 3, StdinEOF: 4 } as const
export type StreamID = (typeof StreamID)[keyof typeof StreamID]

export interface Frame {
  stream: number
  data: Buffer
}

/** Output frames SHOULD carry at most 64 KiB. */
export const MAX_WS_FRAME_PAYLOAD = 64 * 1024
/** HTTP exec frames carry at most 16 KiB (one chunk each). */
export const MAX_HTTP_FRAME_PAYLOAD = 16 * 1024

export function encodeFrame(stream: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(1 + data.length)
  out[0] = stream
  out.set(data, 1)
  return out
}

/** Exit frame: exactly 2 bytes, `[0x03, code]`; codes outside 0-255 become 255. */
export function encodeExitFrame(code: number): Buffer {
  const c = Number.isInteger(code) && code >= 0 && code <= 255 ? code : 255
  return Buffer.from([StreamID.Exit, c])
}

/** Decodes one frame; an empty message decodes to null (keepalive). */
export function decodeFrame(msg: Uint8Array): Frame | null {
  if (msg.length === 0) return null
  const buf = Buffer.isBuffer(msg) ? msg : Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength)
  return { stream: buf[0] as number, data: buf.subarray(1) }
}

/** Splits `data` into frames of at most `max` payload bytes. */
export function* chunkFrames(
  stream: number,
  data: Buffer,
  max = MAX_WS_FRAME_PAYLOAD,
): Generator<Buffer> {
  for (let off = 0; off < data.length; off += max) {
    yield encodeFrame(stream, data.subarray(off, off + max))
  }
}
