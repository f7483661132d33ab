import { writeFile } from 'node:fs/promises'
import { createFakeVolumeDriver } from '../src/fake-volume-driver.ts'
import {
  destroyDataDir,
  makeDataDir,
  ROOT_SKIP,
  TEST_DISK_BYTES,
  testDriver,
  writeAsSpriteRoot,
} from './real-harness.ts'
import type { VolumeHarness } from './volume-contract.ts'
import { volumeContract } from './volume-contract.ts'

async function openFake(): Promise<VolumeHarness> {
  const driver = createFakeVolumeDriver({ defaultDiskBytes: TEST_DISK_BYTES })
  return {
    driver,
    minDiskBytes: TEST_DISK_BYTES,
    write: (rootfs, relPath, data) => writeFile(`${rootfs}/${relPath}`, data),
    close: () => driver.close(),
  }
}

async function openReflink(): Promise<VolumeHarness> {
  const dataDir = await makeDataDir()
  const driver = testDriver(dataDir)
  return {
    driver,
    minDiskBytes: TEST_DISK_BYTES,
    write: writeAsSpriteRoot,
    close: () => destroyDataDir(dataDir),
  }
}

const TARGETS: Array<[string, () => Promise<VolumeHarness>, string | false]> = [
  ['fake', openFake, false],
  ['reflink', openReflink, ROOT_SKIP],
]

for (const [name, open, skip] of TARGETS) volumeContract(name, open, skip)
