// A sprite that fills its own disk gets ENOSPC inside; another sprite keeps working.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createSprite, deleteAll, execWS, sh } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

describe('full sprite disk', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const names = new Set<string>()

  before(async () => {
    srv = await startSpritesd()
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  test('ENOSPC inside the full sprite, no harm to its neighbour', {
    timeout: 120_000,
  }, async () => {
    const full = await createSprite(srv, uniqueName('life-full'))
    const other = await createSprite(srv, uniqueName('life-other'))
    names.add(full.name)
    names.add(other.name)
    const tooBig = await execWS(srv, full.name, ['fallocate', '-l', '20G', '/home/sprite/big'])
    assert.notEqual(tooBig.code, 0)
    assert.match(tooBig.stderr, /No space left on device/)
    // Take every block the sprite user may use, then try to write more.
    await sh(srv, full.name, 'fallocate -l $(df --output=avail -B1 ~ | tail -1) ~/big || true')
    const write = await execWS(srv, full.name, [
      'sh',
      '-c',
      'dd if=/dev/zero of=$HOME/more bs=1M count=64 conv=fsync',
    ])
    assert.notEqual(write.code, 0)
    assert.match(write.stderr, /No space left on device/)
    assert.equal((await sh(srv, other.name, 'echo ok > ~/f && sync ~/f && cat ~/f')).trim(), 'ok')
    await sh(srv, full.name, 'rm -f ~/big ~/more && echo fine > ~/after && cat ~/after')
  })
})
