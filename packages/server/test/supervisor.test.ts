import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseSpriteHost } from '../src/proxy/sprite-host-name.ts'
import {
  checkConflicts,
  decodeStored,
  encodeStored,
  findCycle,
  parseDefinition,
  type ServiceDefinition,
  startOrder,
} from '../src/supervisor/service-definition.ts'
import {
  formatLogLine,
  LineSplitter,
  LogBuffer,
  parseLogLine,
} from '../src/supervisor/service-log.ts'
import { restartDelayMs, serviceToWire } from '../src/supervisor/service-state.ts'

const def = (name: string, needs: string[] = [], httpPort: number | null = null) =>
  parseDefinition(name, { cmd: 'sleep', args: ['1'], needs, http_port: httpPort })

describe('service definitions', () => {
  test('parses snake and camel http_port, rejects bad input with 400', () => {
    assert.equal(parseDefinition('a', { cmd: 'x', httpPort: 80 }).httpPort, 80)
    assert.equal(parseDefinition('a', { cmd: 'x' }).httpPort, null)
    for (const bad of [{}, { cmd: '' }, { cmd: 'x', args: [1] }, { cmd: 'x', http_port: 0 }]) {
      assert.throws(() => parseDefinition('a', bad), { code: 'invalid_argument' })
    }
    assert.throws(() => parseDefinition('../x', { cmd: 'x' }), { code: 'invalid_argument' })
  })

  test('unknown needs, cycles and a second http_port are conflicts', () => {
    const others = new Map<string, ServiceDefinition>([
      ['a', def('a', [], 8000)],
      ['b', def('b', ['a'])],
    ])
    assert.throws(() => checkConflicts(def('c', ['zz']), others), { code: 'conflict' })
    assert.throws(() => checkConflicts(def('c', [], 9000), others), {
      message: 'another service already has an HTTP port configured',
    })
    assert.throws(() => checkConflicts(def('a', ['b'], 8000), others), /cycle/)
    checkConflicts(def('a', [], 8001), others)
    assert.deepEqual(findCycle(new Map([['x', { needs: ['x'] }]])), ['x', 'x'])
  })

  test('start order puts needs first', () => {
    const defs = new Map([
      ['web', { needs: ['api'] }],
      ['api', { needs: ['db'] }],
      ['db', { needs: [] }],
    ])
    assert.deepEqual(startOrder(defs), ['db', 'api', 'web'])
    assert.deepEqual(startOrder(defs, ['api']), ['db', 'api'])
  })

  test('stored form round-trips with the sticky stop flag', () => {
    const s = { ...def('a', [], 80), env: { K: 'v' }, stopped: true }
    assert.deepEqual(decodeStored(encodeStored(s)), s)
    assert.equal(decodeStored('{broken'), null)
  })
})

describe('service state and logs', () => {
  test('backoff is 1, 2, 4 … s capped at 60 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 7, 8].map(restartDelayMs),
      [1000, 2000, 4000, 8000, 60_000, 60_000],
    )
  })

  test('wire form omits absent times', () => {
    const w = serviceToWire(def('a'), { status: 'stopped', restartCount: 0 }) as {
      state: Record<string, unknown>
      http_port: unknown
    }
    assert.equal(w.http_port, null)
    assert.deepEqual(w.state, { name: 'a', status: 'stopped', restart_count: 0 })
  })

  test('log lines are `<RFC 3339 ms> [stream] text` and parse back', () => {
    const l = {
      timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      stream: 'stderr' as const,
      data: 'x y',
    }
    assert.equal(formatLogLine(l), '2026-01-02T03:04:05.006Z [stderr] x y\n')
    assert.deepEqual(parseLogLine(formatLogLine(l).trimEnd()), l)
    // Progress bars and odd separators are text like any other.
    for (const data of ['10%\r20%\r30%', 'a\u2028b\u2029c', '', ' lead and trail ']) {
      const line = { ...l, data }
      assert.deepEqual(parseLogLine(formatLogLine(line).slice(0, -1)), line, JSON.stringify(data))
    }
  })

  test('the splitter joins chunks, drops CR and keeps split UTF-8 whole', () => {
    const s = new LineSplitter()
    const euro = Buffer.from('€')
    assert.deepEqual(s.push(Buffer.concat([Buffer.from('a\r\nb'), euro.subarray(0, 1)])), ['a'])
    assert.deepEqual(s.push(Buffer.concat([euro.subarray(1), Buffer.from('\nc')])), ['b€'])
    assert.deepEqual(s.flush(), ['c'])
  })

  test('the buffer keeps the last lines', () => {
    const b = new LogBuffer(3)
    for (let i = 0; i < 10; i++) b.push({ timestamp: i, stream: 'stdout', data: String(i) })
    assert.deepEqual(
      b.tail().map((l) => l.data),
      ['7', '8', '9'],
    )
    assert.deepEqual(
      b.tail(1).map((l) => l.data),
      ['9'],
    )
  })
})

describe('sprite URL host names', () => {
  test('splits the first label at its last dash', () => {
    assert.deepEqual(parseSpriteHost('my-app-ab12c.sprites.localhost:8080', 'sprites.localhost'), {
      name: 'my-app',
      orgID: 'ab12c',
    })
    assert.equal(parseSpriteHost('127.0.0.1:8080', 'sprites.localhost'), null)
    assert.equal(parseSpriteHost('a.b-ab12c.sprites.localhost', 'sprites.localhost'), null)
    assert.equal(parseSpriteHost('app-AB.sprites.localhost', 'sprites.localhost'), null)
  })
})
