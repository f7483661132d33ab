import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dialHost } from '../../port-forward.ts'
import { parseMapping, parseStdioTarget } from './proxy.ts'

test('port mappings: <port>, <local:remote>, 0 for a free local port', () => {
  assert.deepEqual(parseMapping('8080'), { local: 8080, remote: 8080 })
  assert.deepEqual(parseMapping('9000:8080'), { local: 9000, remote: 8080 })
  assert.deepEqual(parseMapping('0:5432'), { local: 0, remote: 5432 })
  for (const bad of ['', 'x', '0', '1:2:3', '70000', '80:0', '-1:80']) {
    assert.throws(() => parseMapping(bad), /port mapping/, bad)
  }
})

test('--stdio targets and the dialled host of a listener', () => {
  assert.deepEqual(parseStdioTarget('5432'), { host: 'localhost', port: 5432 })
  assert.deepEqual(parseStdioTarget(':5432'), { host: 'localhost', port: 5432 })
  assert.deepEqual(parseStdioTarget('10.0.0.2:80'), { host: '10.0.0.2', port: 80 })
  assert.deepEqual(parseStdioTarget('[::1]:80'), { host: '::1', port: 80 })
  assert.equal(dialHost('0.0.0.0'), 'localhost')
  assert.equal(dialHost('::'), 'localhost')
  assert.equal(dialHost('127.0.0.1'), '127.0.0.1')
})
