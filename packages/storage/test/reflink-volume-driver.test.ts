import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, rm, stat } from 'node:fs/promises'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { SPRITE_UID } from '../src/base-recipe.ts'
import { defaultExec, type ExecFn } from '../src/exec.ts'
import { IDMAP_HELPER } from '../src/idmap.ts'
import type { Logger } from '../src/logger.ts'
import { isMountPoint } from '../src/mounts.ts'
import type { ReflinkVolumeDriver } from '../src/reflink-volume-driver.ts'
import {
  destroyDataDir,
  loopsUnder,
  makeDataDir,
  ROOT_SKIP,
  resourceSnapshot,
  TEST_DISK_BYTES,
  testDriver,
  writeAsSpriteRoot,
} from './real-harness.ts'

const run = promisify(execFile)
const RANGE = { uidBase: 500000, uidCount: 65536 }

/** Collects the drivers' `durationMs` log fields per operation. */
function timingLogger(timings: Map<string, number[]>): Logger {
  const info = (ctx: object) => {
    const { op, durationMs } = ctx as { op?: string; durationMs?: number }
    if (op && durationMs !== undefined) timings.set(op, [...(timings.get(op) ?? []), durationMs])
  }
  const log: Logger = { debug: () => {}, info, warn: () => {}, error: () => {}, child: () => log }
  return log
}

/** Bytes used on the pool filesystem. */
async function poolUsedBytes(pool: string): Promise<number> {
  const { stdout } = await run('df', ['-B1', '--output=used', pool])
  return Number(stdout.trim().split('\n').at(-1))
}

describe('reflink volume driver on a real pool', { skip: ROOT_SKIP }, () => {
  let dataDir: string
  let driver: ReflinkVolumeDriver
  let baseline: Awaited<ReturnType<typeof resourceSnapshot>>
  const timings = new Map<string, number[]>()

  before(async () => {
    dataDir = await makeDataDir()
    driver = testDriver(dataDir, { log: timingLogger(timings) })
    const startedAt = performance.now()
    await driver.ensureBaseImage()
    timings.set('ensureBaseImage', [Math.round(performance.now() - startedAt)])
  })
  after(async () => {
    if (dataDir) await destroyDataDir(dataDir)
    for (const [op, ms] of timings) process.stdout.write(`# timing ${op}: ${ms.join(', ')} ms\n`)
  })
  beforeEach(async () => {
    baseline = await resourceSnapshot(dataDir)
  })
  afterEach(async () => {
    assert.deepEqual(await resourceSnapshot(dataDir), baseline, 'loop devices or mounts leaked')
  })

  test('the pool is an XFS loop mount and init remounts it after an unmount', async () => {
    const { pool } = driver.layout
    assert.equal(await isMountPoint(pool), true)
    const { stdout } = await run('stat', ['-f', '-c', '%T', pool])
    assert.equal(stdout.trim(), 'xfs')
    await run('umount', [pool])
    assert.equal(await isMountPoint(pool), false)
    await driver.init()
    await driver.init()
    assert.equal(await isMountPoint(pool), true)
    assert.equal((await stat(`${pool}/images`)).isDirectory(), true)
  })

  test('the base image has the sprite user, sudoers and the /.sprite files', async () => {
    const image = await driver.ensureBaseImage()
    await driver.createDisk('base', TEST_DISK_BYTES)
    const { rootfs } = await driver.attach('base', RANGE)
    const passwd = await readFile(`${rootfs}/etc/passwd`, 'utf8')
    assert.match(passwd, /^sprite:x:1001:1001::\/home\/sprite:\/bin\/bash$/m)
    assert.match(await readFile(`${rootfs}/etc/group`, 'utf8'), /^sudo:x:27:sprite$/m)
    const sudoers = await stat(`${rootfs}/etc/sudoers.d/sprite`)
    assert.equal(sudoers.mode & 0o777, 0o440)
    assert.match(await readFile(`${rootfs}/etc/sudoers.d/sprite`, 'utf8'), /NOPASSWD/)
    assert.equal((await readFile(`${rootfs}/.sprite/version.txt`, 'utf8')).trim(), image.version)
    assert.match(await readFile(`${rootfs}/.sprite/llm.txt`, 'utf8'), /^# You are inside a sprite/)
    for (const dir of [
      'bin',
      'logs/services',
      'tmp',
      'checkpoints',
      'policy',
      'etc/profile.d',
      'languages',
    ]) {
      assert.equal((await stat(`${rootfs}/.sprite/${dir}`)).isDirectory(), true, dir)
    }
    for (const bin of ['bash', 'sudo', 'curl', 'git', 'python3', 'ps', 'ip', 'less', 'vi']) {
      await stat(`${rootfs}/usr/bin/${bin}`).catch(() => stat(`${rootfs}/usr/sbin/${bin}`))
    }
    await driver.deleteDisk('base')
  })

  test('createDisk clones by reflink and can grow the disk', async () => {
    const { pool } = driver.layout
    const image = await driver.ensureBaseImage()
    const imageBytes = (await stat(image.path)).blocks * 512
    const before = await poolUsedBytes(pool)
    for (const id of ['r1', 'r2', 'r3']) await driver.createDisk(id, TEST_DISK_BYTES)
    const grown = await poolUsedBytes(pool)
    assert.ok(grown - before < imageBytes / 4, `pool grew by ${grown - before} of ${imageBytes}`)
    const { stdout } = await run('filefrag', ['-v', `${pool}/disks/r1.ext4`])
    assert.match(stdout, /shared/)
    await driver.createDisk('big', 2 * TEST_DISK_BYTES)
    assert.equal((await stat(`${pool}/disks/big.ext4`)).size, 2 * TEST_DISK_BYTES)
    const disk = await driver.attach('big', RANGE)
    const { stdout: df } = await run('df', ['-B1', '--output=size', disk.rootfs])
    assert.ok(Number(df.trim().split('\n').at(-1)) > 1.5 * TEST_DISK_BYTES)
    for (const id of ['r1', 'r2', 'r3', 'big']) await driver.deleteDisk(id)
  })

  test('attach maps on-disk uids to the sprite range and writes persist', async () => {
    await driver.createDisk('own', TEST_DISK_BYTES)
    const disk = await driver.attach('own', RANGE)
    assert.match(disk.device, /^\/dev\/loop\d+$/)
    assert.equal((await stat(disk.rootfs)).uid, RANGE.uidBase)
    assert.equal((await stat(`${disk.rootfs}/home/sprite`)).uid, RANGE.uidBase + SPRITE_UID)
    await writeAsSpriteRoot(disk.rootfs, 'root/mark', 'persisted', RANGE)
    assert.equal((await stat(`${disk.rootfs}/root/mark`)).uid, RANGE.uidBase)
    assert.equal(await isMountPoint(`${dataDir}/staging/own`), false, 'staging mount dropped')
    await driver.detach('own')
    const other = { uidBase: 700000, uidCount: 65536 }
    const again = await driver.attach('own', other)
    assert.equal(await readFile(`${again.rootfs}/root/mark`, 'utf8'), 'persisted')
    assert.equal((await stat(`${again.rootfs}/root/mark`)).uid, other.uidBase)
    await driver.deleteDisk('own')
  })

  test('detach finds the loop device after a restart (a new driver instance)', async () => {
    await driver.createDisk('restart', TEST_DISK_BYTES)
    await driver.attach('restart', RANGE)
    assert.equal((await loopsUnder(`${dataDir}/pool/disks`)).length, 1)
    await testDriver(dataDir).detach('restart')
    assert.equal((await loopsUnder(`${dataDir}/pool/disks`)).length, 0)
    await driver.deleteDisk('restart')
  })

  test('an attach failing at the idmap step leaves nothing behind', async () => {
    await driver.createDisk('fail', TEST_DISK_BYTES)
    const failingIdmap: ExecFn = (file, args, opts) =>
      file === IDMAP_HELPER
        ? defaultExec(file, [...args.slice(0, 2), '4294967000', '65536'], opts)
        : defaultExec(file, args, opts)
    const broken = testDriver(dataDir, { exec: failingIdmap })
    await assert.rejects(
      broken.attach('fail', RANGE),
      (err: { code?: string }) => err.code === 'internal',
    )
    assert.deepEqual(await resourceSnapshot(dataDir), baseline)
    await assert.rejects(stat(`${dataDir}/mnt/fail`), { code: 'ENOENT' })
    await driver.deleteDisk('fail')
  })

  test('concurrent ensureBaseImage calls from two drivers build the golden image once', async () => {
    const image = await driver.ensureBaseImage()
    await rm(image.path)
    const progress: string[] = []
    const onProgress = (message: string) => progress.push(message)
    const [a, b] = await Promise.all([
      testDriver(dataDir).ensureBaseImage({ onProgress }),
      testDriver(dataDir).ensureBaseImage({ onProgress }),
    ])
    assert.deepEqual(a, image)
    assert.deepEqual(b, image)
    assert.equal(progress.filter((m) => m === 'creating ext4 image').length, 1)
    assert.equal((await stat(image.path)).size, TEST_DISK_BYTES)
  })

  test('concurrent attaches of one disk share one mount', async () => {
    await driver.createDisk('race', TEST_DISK_BYTES)
    const [a, b] = await Promise.all([driver.attach('race', RANGE), driver.attach('race', RANGE)])
    assert.deepEqual(a, b)
    assert.equal((await loopsUnder(`${dataDir}/pool/disks`)).length, 1)
    await driver.deleteDisk('race')
  })
})
