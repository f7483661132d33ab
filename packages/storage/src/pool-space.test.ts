import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { test } from 'node:test'
import { SpritesError } from '@sprites/protocol'
import { ExecError } from './exec.ts'
import { assertPoolHeadroom, isNoSpace, mapNoSpace, poolFullError } from './pool-space.ts'

const errno = (code: string) => Object.assign(new Error(code), { code })

test('ENOSPC and EDQUOT are recognised from fs errors and program output', () => {
  assert.equal(isNoSpace(errno('ENOSPC')), true)
  assert.equal(isNoSpace(errno('EDQUOT')), true)
  assert.equal(isNoSpace(errno('EIO')), false)
  const cp = (stderr: string) => new ExecError('cp', ['a', 'b'], 1, stderr)
  assert.equal(isNoSpace(cp("cp: failed to clone 'b': No space left on device")), true)
  assert.equal(isNoSpace(cp('resize2fs: Disk quota exceeded while trying to resize')), true)
  assert.equal(isNoSpace(cp('cp: cannot stat a: No such file or directory')), false)
  assert.equal(isNoSpace(undefined), false)
})

test('mapNoSpace turns a full pool into insufficient_storage (507) and passes others on', async () => {
  const err = await mapNoSpace(tmpdir(), 1024, async () => {
    throw errno('ENOSPC')
  }).catch((e: unknown) => e)
  assert.ok(err instanceof SpritesError)
  assert.equal(err.code, 'insufficient_storage')
  assert.equal(err.status, 507)
  assert.match(err.message, /storage pool is full .*delete sprites or checkpoints/)
  assert.equal(typeof err.details.free_bytes, 'number')
  assert.equal(err.details.min_free_bytes, 1024)
  await assert.rejects(
    mapNoSpace(tmpdir(), 0, async () => {
      throw errno('EIO')
    }),
    { code: 'EIO' },
  )
  const other = new SpritesError('not_found', 'x')
  await assert.rejects(
    mapNoSpace(tmpdir(), 0, async () => {
      throw other
    }),
    (e) => e === other,
  )
  assert.equal(await mapNoSpace(tmpdir(), 0, async () => 7), 7)
})

test('assertPoolHeadroom refuses below the minimum free space', async () => {
  await assertPoolHeadroom(tmpdir(), 0)
  await assert.rejects(assertPoolHeadroom(tmpdir(), Number.MAX_SAFE_INTEGER), {
    code: 'insufficient_storage',
  })
  const e = poolFullError('/p', 3 * 1024 ** 2, 256 * 1024 ** 2)
  assert.match(e.message, /3 MiB free in \/p, 256 MiB must stay free/)
  assert.deepEqual(e.toBody(), {
    free_bytes: 3 * 1024 ** 2,
    min_free_bytes: 256 * 1024 ** 2,
    error: 'insufficient_storage',
    message: e.message,
  })
})
