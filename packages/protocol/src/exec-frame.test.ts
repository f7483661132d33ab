import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chunkFrames, decodeFrame, encodeExitFrame, encodeFrame, StreamID } from './exec-frame.ts'

test('decodes a stdout frame byte by byte', () => {
  assert.deepEqual(decodeFrame(Buffer.from('0168690a', 'hex')), {
    stream: 1,
    data: Buffer.from('hi\n'),
  })
})

test('an empty message is a keepalive', () => {
  assert.equal(decodeFrame(Buffer.alloc(0)), null)
})

test('stdin EOF is a single byte', () => {
  assert.deepEqual(encodeFrame(StreamID.StdinEOF), Buffer.from([4]))
})

test('exit frame is exactly two bytes and clamps out-of-range codes to 255', () => {
  assert.deepEqual(encodeExitFrame(42), Buffer.from([3, 42]))
  assert.deepEqual(encodeExitFrame(300), Buffer.from([3, 255]))
  assert.deepEqual(encodeExitFrame(-1), Buffer.from([3, 255]))
})

test('chunkFrames splits payloads and keeps the stream byte', () => {
  const data = Buffer.alloc(150_000, 7)
  const frames = [...chunkFrames(StreamID.Stderr, data, 65536)]
  assert.deepEqual(
    frames.map((f) => f.length),
    [65537, 65537, 150_000 - 2 * 65536 + 1],
  )
  assert.ok(frames.every((f) => f[0] === 2))
  assert.deepEqual(Buffer.concat(frames.map((f) => f.subarray(1))), data)
})
