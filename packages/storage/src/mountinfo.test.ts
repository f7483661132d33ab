import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPathUnder, mountsUnder, parseMountInfo, unescapeMountPath } from './mountinfo.ts'

const SAMPLE = [
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '42 27 7:0 / /var/lib/sprites/pool rw,noatime shared:5 - xfs /dev/loop0 rw,inode64',
  '43 27 7:1 / /var/lib/sprites/mnt/a/root rw,noatime master:1 - ext4 /dev/loop1 rw',
  '44 43 0:50 / /var/lib/sprites/mnt/a/root/proc rw - proc proc rw',
  '45 27 7:2 / /var/lib/sprites/mnt/ab/root rw - ext4 /dev/loop2 rw',
  '46 27 0:51 / /mnt/with\\040space rw - tmpfs my\\134src rw',
  'garbage line',
].join('\n')

test('parses fields, optional fields and the part after the dash', () => {
  const entries = parseMountInfo(SAMPLE)
  assert.equal(entries.length, 6)
  assert.deepEqual(entries[1], {
    id: 42,
    parentID: 27,
    device: '7:0',
    root: '/',
    mountPoint: '/var/lib/sprites/pool',
    options: 'rw,noatime',
    fsType: 'xfs',
    source: '/dev/loop0',
  })
})

test('decodes octal escapes in paths and sources', () => {
  const entry = parseMountInfo(SAMPLE).at(-1)
  assert.equal(entry?.mountPoint, '/mnt/with space')
  assert.equal(entry?.source, 'my\\src')
  assert.equal(unescapeMountPath('a\\011b\\012c'), 'a\tb\nc')
})

test('mountsUnder keeps only the directory and below, deepest first', () => {
  const under = mountsUnder(parseMountInfo(SAMPLE), '/var/lib/sprites/mnt/a')
  assert.deepEqual(
    under.map((e) => e.mountPoint),
    ['/var/lib/sprites/mnt/a/root/proc', '/var/lib/sprites/mnt/a/root'],
  )
})

test('isPathUnder compares whole path components', () => {
  assert.equal(isPathUnder('/a/b', '/a'), true)
  assert.equal(isPathUnder('/a', '/a/'), true)
  assert.equal(isPathUnder('/ab', '/a'), false)
})
