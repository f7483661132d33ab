import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isUsageError } from '../../usage-error.ts'
import { localTarget, remoteTarget, twoPaths } from './file-paths.ts'

test('push: a remote path ending in / gets the local file name', () => {
  assert.equal(remoteTarget('/tmp/', 'dir/a.bin'), '/tmp/a.bin')
  assert.equal(remoteTarget('/tmp/b.bin', 'dir/a.bin'), '/tmp/b.bin')
  assert.equal(remoteTarget('/tmp/', '-'), '/tmp/')
})

test('pull: a local directory gets the remote file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sprite-paths-'))
  try {
    assert.equal(localTarget(dir, '/etc/hostname'), join(dir, 'hostname'))
    assert.equal(localTarget(join(dir, 'x'), '/etc/hostname'), join(dir, 'x'))
    assert.equal(localTarget('new/', '/etc/hostname'), 'new/hostname')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('push and pull need exactly two paths', () => {
  assert.deepEqual(twoPaths(['a', 'b'], 'u'), ['a', 'b'])
  for (const bad of [[], ['a'], ['a', 'b', 'c']]) {
    assert.throws(() => twoPaths(bad, 'u'), isUsageError)
  }
})
