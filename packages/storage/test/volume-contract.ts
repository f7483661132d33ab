import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import type { AttachOptions, VolumeDriver } from '../src/volume-driver.ts'

/** One driver under test plus what the contract cannot do through the interface. */
export interface VolumeHarness {
  driver: VolumeDriver
  /** Smallest disk size the driver accepts (the golden image size). */
  minDiskBytes: number
  /** Writes a file into an attached root filesystem as the sprite's root user would. */
  write(rootfs: string, relPath: string, data: string, range: AttachOptions): Promise<void>
  /** Removes everything the harness created. */
  close(): Promise<void>
}

const RANGE_A: AttachOptions = { uidBase: 300000, uidCount: 65536 }
const RANGE_B: AttachOptions = { uidBase: 400000, uidCount: 65536 }

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: { code?: string }) => err.code === code)
}

/** The behaviour every `VolumeDriver` must share, run once per implementation. */
export function volumeContract(
  name: string,
  open: () => Promise<VolumeHarness>,
  skip: string | false,
): void {
  describe(`${name}: volume driver contract`, { skip }, () => {
    let h: VolumeHarness
    before(async () => {
      h = await open()
    })
    after(async () => {
      await h?.close()
    })

    test('init and ensureBaseImage are idempotent', async () => {
      await h.driver.init()
      await h.driver.init()
      const first = await h.driver.ensureBaseImage()
      const second = await h.driver.ensureBaseImage()
      assert.deepEqual(second, first)
      assert.match(first.version, /^bookworm-[0-9a-f]{12}$/)
    })

    test('createDisk validates the id and the size', async () => {
      await rejectsWithCode(h.driver.createDisk('../x', h.minDiskBytes), 'invalid_argument')
      await rejectsWithCode(h.driver.createDisk('small', h.minDiskBytes - 4096), 'invalid_argument')
      assert.equal(await h.driver.hasDisk('small'), false)
    })

    test('unknown disks: attach fails with not_found, detach and delete are no-ops', async () => {
      assert.equal(await h.driver.hasDisk('nope'), false)
      await rejectsWithCode(h.driver.attach('nope', RANGE_A), 'not_found')
      await h.driver.detach('nope')
      await h.driver.deleteDisk('nope')
    })

    test('a new disk holds the base image and writes persist across detach and attach', async () => {
      await h.driver.createDisk('c1', h.minDiskBytes)
      await h.driver.createDisk('c1', h.minDiskBytes)
      assert.equal(await h.driver.hasDisk('c1'), true)
      const { version } = await h.driver.ensureBaseImage()
      const disk = await h.driver.attach('c1', RANGE_A)
      assert.deepEqual(await h.driver.attach('c1', RANGE_A), disk)
      assert.equal((await readFile(`${disk.rootfs}/.sprite/version.txt`, 'utf8')).trim(), version)
      await h.write(disk.rootfs, 'note.txt', 'kept', RANGE_A)
      await h.driver.detach('c1')
      await h.driver.detach('c1')
      assert.equal(existsSync(`${disk.rootfs}/note.txt`), false)
      const again = await h.driver.attach('c1', RANGE_A)
      assert.equal(await readFile(`${again.rootfs}/note.txt`, 'utf8'), 'kept')
      await h.driver.deleteDisk('c1')
    })

    test('two disks are independent', async () => {
      await h.driver.createDisk('c2', h.minDiskBytes)
      await h.driver.createDisk('c3', h.minDiskBytes)
      const a = await h.driver.attach('c2', RANGE_A)
      const b = await h.driver.attach('c3', RANGE_B)
      assert.notEqual(a.rootfs, b.rootfs)
      await h.write(a.rootfs, 'only-a.txt', 'a', RANGE_A)
      assert.equal(existsSync(`${b.rootfs}/only-a.txt`), false)
      await h.driver.deleteDisk('c2')
      await h.driver.deleteDisk('c3')
    })

    test('deleteDisk removes an attached disk and is idempotent', async () => {
      await h.driver.createDisk('c4', h.minDiskBytes)
      const disk = await h.driver.attach('c4', RANGE_A)
      await h.driver.deleteDisk('c4')
      await h.driver.deleteDisk('c4')
      assert.equal(await h.driver.hasDisk('c4'), false)
      assert.equal(existsSync(disk.rootfs), false)
      await rejectsWithCode(h.driver.attach('c4', RANGE_A), 'not_found')
    })

    test('attach rejects an invalid uid range', async () => {
      await h.driver.createDisk('c5', h.minDiskBytes)
      await rejectsWithCode(
        h.driver.attach('c5', { uidBase: -1, uidCount: 10 }),
        'invalid_argument',
      )
      await rejectsWithCode(h.driver.attach('c5', { uidBase: 0, uidCount: 0 }), 'invalid_argument')
      await h.driver.deleteDisk('c5')
    })

    test('checkpoint, restore, fork and delete checkpoints', async () => {
      await h.driver.createDisk('k1', h.minDiskBytes)
      assert.deepEqual(await h.driver.listCheckpointFiles('k1'), ['v0'])
      let disk = await h.driver.attach('k1', RANGE_A)
      await h.write(disk.rootfs, 'a.txt', 'one', RANGE_A)
      await h.driver.checkpoint('k1', 'v1')
      await h.write(disk.rootfs, 'a.txt', 'two', RANGE_A)
      await rejectsWithCode(h.driver.restore('k1', 'v1'), 'conflict')
      await h.driver.detach('k1')
      await rejectsWithCode(h.driver.restore('k1', 'v7'), 'checkpoint_not_found')
      await rejectsWithCode(h.driver.checkpoint('k1', '../v1'), 'invalid_argument')
      await h.driver.checkpoint('k1', 'auto-1')
      await h.driver.restore('k1', 'v1')
      disk = await h.driver.attach('k1', RANGE_A)
      assert.equal(await readFile(`${disk.rootfs}/a.txt`, 'utf8'), 'one')
      await h.driver.detach('k1')
      await h.driver.restore('k1', 'auto-1')
      disk = await h.driver.attach('k1', RANGE_A)
      assert.equal(await readFile(`${disk.rootfs}/a.txt`, 'utf8'), 'two')
      await h.driver.detach('k1')
      await h.driver.restore('k1', 'v0')
      disk = await h.driver.attach('k1', RANGE_A)
      assert.equal(existsSync(`${disk.rootfs}/a.txt`), false)
      await h.driver.detach('k1')
      const space = await h.driver.checkpointSpace('k1', 'v1')
      assert.ok(space.exclusiveBytes >= 0 && space.sharedBytes >= 0)
      await h.driver.forkDisk('k1', 'v1', 'k2')
      assert.deepEqual(await h.driver.listCheckpointFiles('k2'), ['v0'])
      const forked = await h.driver.attach('k2', RANGE_B)
      assert.equal(await readFile(`${forked.rootfs}/a.txt`, 'utf8'), 'one')
      await rejectsWithCode(h.driver.forkDisk('k1', 'v9', 'k3'), 'checkpoint_not_found')
      assert.equal(await h.driver.hasDisk('k3'), false)
      await h.driver.deleteCheckpoint('k1', 'v1')
      await h.driver.deleteCheckpoint('k1', 'v1')
      assert.deepEqual((await h.driver.listCheckpointFiles('k1')).sort(), ['auto-1', 'v0'])
      await h.driver.deleteDisk('k1')
      await h.driver.deleteDisk('k2')
      assert.deepEqual(await h.driver.listCheckpointFiles('k1'), [])
    })

    test('fork of the live state of an attached disk', async () => {
      await h.driver.createDisk('k4', h.minDiskBytes)
      const disk = await h.driver.attach('k4', RANGE_A)
      await h.write(disk.rootfs, 'live.txt', 'live', RANGE_A)
      await h.driver.forkDisk('k4', null, 'k5')
      const forked = await h.driver.attach('k5', RANGE_B)
      assert.equal(await readFile(`${forked.rootfs}/live.txt`, 'utf8'), 'live')
      await h.driver.deleteDisk('k4')
      await h.driver.deleteDisk('k5')
    })
  })
}
