import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  AgentProtocolError,
  decodeExit,
  decodeSpawnFailed,
  decodeSpawnRecords,
  encodeFrame,
  encodeResize,
  encodeSpawn,
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  SpawnTag,
} from './agent-codec.ts'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

describe('encodeFrame', () => {
  test('writes type, channel and length big-endian', () => {
    assert.deepEqual(
      encodeFrame(FrameType.STDIN, 0x01020304, Buffer.from('hi')),
      hex('02 01020304 00000002 6869'),
    )
  })

  test('an empty frame is the header alone', () => {
    assert.deepEqual(encodeFrame(FrameType.STDIN_EOF, 7), hex('03 00000007 00000000'))
  })

  test('refuses payloads above 1 MiB', () => {
    assert.throws(
      () => encodeFrame(FrameType.STDIN, 1, Buffer.alloc(MAX_FRAME_PAYLOAD_BYTES + 1)),
      AgentProtocolError,
    )
    assert.equal(encodeFrame(1, 1, Buffer.alloc(MAX_FRAME_PAYLOAD_BYTES)).length, 9 + 2 ** 20)
  })
})

describe('FrameDecoder', () => {
  const frames = [
    encodeFrame(FrameType.READY, 0, Buffer.from('sprite-agent/0.1.0')),
    encodeFrame(FrameType.STARTED, 5, hex('00000457')),
    encodeFrame(FrameType.STDOUT, 5, Buffer.from('hello\n')),
    encodeFrame(FrameType.EXIT, 5, hex('0000')),
  ]
  const stream = Buffer.concat(frames)
  const expected = [
    { type: 0x80, channel: 0, payload: Buffer.from('sprite-agent/0.1.0') },
    { type: 0x81, channel: 5, payload: hex('00000457') },
    { type: 0x82, channel: 5, payload: Buffer.from('hello\n') },
    { type: 0x84, channel: 5, payload: hex('0000') },
  ]

  test('decodes several frames from one chunk', () => {
    const d = new FrameDecoder()
    assert.deepEqual(d.push(stream), expected)
    assert.equal(d.bufferedBytes, 0)
  })

  test('decodes the stream split at every offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new FrameDecoder()
      const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))]
      assert.deepEqual(got, expected, `split at ${i}`)
    }
  })

  test('decodes the stream split at every pair of offsets', () => {
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j++) {
        const d = new FrameDecoder()
        const got = [
          ...d.push(stream.subarray(0, i)),
          ...d.push(stream.subarray(i, j)),
          ...d.push(stream.subarray(j)),
        ]
        assert.deepEqual(got, expected, `split at ${i} and ${j}`)
      }
    }
  })

  test('decodes the stream fed one byte at a time', () => {
    const d = new FrameDecoder()
    const got = []
    for (const byte of stream) got.push(...d.push(Buffer.from([byte])))
    assert.deepEqual(got, expected)
  })

  test('keeps a partial frame until the rest arrives', () => {
    const d = new FrameDecoder()
    assert.deepEqual(d.push(stream.subarray(0, 12)), [])
    assert.equal(d.bufferedBytes, 12)
  })

  test('accepts exactly 1 MiB and rejects one byte more, from the header alone', () => {
    const ok = new FrameDecoder()
    const big = encodeFrame(FrameType.STDOUT, 1, Buffer.alloc(MAX_FRAME_PAYLOAD_BYTES, 7))
    assert.equal(ok.push(big)[0]?.payload.length, MAX_FRAME_PAYLOAD_BYTES)
    const bad = new FrameDecoder()
    assert.throws(
      () => bad.push(hex('82 00000001 00100001')),
      (err: unknown) => err instanceof AgentProtocolError && /1048577 bytes/.test(err.message),
    )
  })

  test('honours a smaller limit', () => {
    assert.throws(() => new FrameDecoder(4).push(hex('82 00000001 00000005')), AgentProtocolError)
  })
})

describe('SPAWN records', () => {
  test('encodes every option as tagged records, in order', () => {
    const payload = encodeSpawn({
      argv: ['sh', '-c', 'echo hi'],
      env: ['PATH=/bin', 'A=b=c'],
      cwd: '/home/sprite',
      path: '/bin/sh',
      uid: 1001,
      gid: 1002,
      groups: [27, 100],
      tty: { rows: 24, cols: 80 },
      stdin: true,
    })
    const records = decodeSpawnRecords(payload).map((r) => [r.tag, r.value.toString()])
    assert.deepEqual(records, [
      [SpawnTag.ARGV, 'sh'],
      [SpawnTag.ARGV, '-c'],
      [SpawnTag.ARGV, 'echo hi'],
      [SpawnTag.ENV, 'PATH=/bin'],
      [SpawnTag.ENV, 'A=b=c'],
      [SpawnTag.CWD, '/home/sprite'],
      [SpawnTag.PATH, '/bin/sh'],
      [SpawnTag.UID, '1001'],
      [SpawnTag.GID, '1002'],
      [SpawnTag.GROUPS, '27,100'],
      [SpawnTag.TTY, '24,80'],
      [SpawnTag.STDIN, '1'],
    ])
  })

  test('a record is tag, u32 BE length, bytes; empty values are allowed', () => {
    const payload = encodeSpawn({ argv: [''], env: [], cwd: '/', uid: 0, gid: 0, stdin: false })
    assert.deepEqual(payload.subarray(0, 5), hex('01 00000000'))
    assert.deepEqual(
      decodeSpawnRecords(payload).map((r) => r.tag),
      [1, 3, 5, 6, 9],
    )
  })

  test('rejects truncated records', () => {
    assert.throws(() => decodeSpawnRecords(hex('01 0000')), AgentProtocolError)
    assert.throws(() => decodeSpawnRecords(hex('01 00000005 6869')), AgentProtocolError)
  })
})

describe('small payloads', () => {
  test('RESIZE clamps to u16', () => {
    assert.deepEqual(encodeResize(40, 120), hex('0028 0078'))
    assert.deepEqual(encodeResize(-3, 70000), hex('0000 ffff'))
  })

  test('EXIT maps signal 0 to null', () => {
    assert.deepEqual(decodeExit(hex('2a00')), { code: 42, signal: null })
    assert.deepEqual(decodeExit(hex('8f0f')), { code: 143, signal: 15 })
    assert.throws(() => decodeExit(hex('00')), AgentProtocolError)
  })

  test('SPAWN_FAILED carries a code and a message', () => {
    assert.deepEqual(decodeSpawnFailed(Buffer.concat([hex('16'), Buffer.from('argv is empty')])), {
      code: 22,
      message: 'argv is empty',
    })
  })
})
