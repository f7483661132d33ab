import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseLosetupList } from './loop.ts'
import { assertDiskID, diskPath, imagePath, layoutOf, mountPaths } from './names.ts'

test('disk ids accept names and reject paths', () => {
  for (const ok of ['a', 'sprite-1', 'Abc_9', 'x'.repeat(64)]) assertDiskID(ok)
  for (const bad of ['', '.', '..', '../x', 'a/b', '-a', 'a b', 'x'.repeat(65), 'a.ext4']) {
    assert.throws(() => assertDiskID(bad), { code: 'invalid_argument' }, bad)
  }
})

test('layout paths sit under the data directory', () => {
  const layout = layoutOf('/var/lib/sprites')
  assert.equal(layout.poolImage, '/var/lib/sprites/pool.img')
  assert.equal(diskPath(layout, 'a'), '/var/lib/sprites/pool/disks/a.ext4')
  assert.equal(imagePath(layout, 'bookworm-1'), '/var/lib/sprites/pool/images/bookworm-1.ext4')
  assert.deepEqual(mountPaths(layout, 'a'), {
    dir: '/var/lib/sprites/mnt/a',
    root: '/var/lib/sprites/mnt/a/root',
    staging: '/var/lib/sprites/staging/a',
  })
})

test('parses losetup -j output', () => {
  const out = '/dev/loop3: [65024]:1442189 (/p/disks/a.ext4)\n/dev/loop12: []: (/p/disks/a.ext4)\n'
  assert.deepEqual(parseLosetupList(out), ['/dev/loop3', '/dev/loop12'])
  assert.deepEqual(parseLosetupList(''), [])
})
