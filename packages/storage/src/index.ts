export { type AttachDeps, attachDisk, detachDisk } from './attach.ts'
export {
  type BaseTarOptions,
  baseTarPath,
  buildGoldenImage,
  ensureBaseTar,
  type GoldenImageOptions,
} from './base-image.ts'
export {
  type BaseRecipe,
  DEFAULT_RECIPE,
  hashRecipe,
  type RecipeEntry,
  recipeFiles,
  recipeVersion,
  SPRITE_UID,
} from './base-recipe.ts'
export {
  assertCheckpointID,
  CHECKPOINT_ID_RE,
  checkpointDir,
  checkpointPath,
  parseFiemap,
} from './checkpoint-files.ts'
export { defaultExec, ExecError, type ExecFn, type ExecOptions, type ExecResult } from './exec.ts'
export {
  createFakeVolumeDriver,
  type FakeVolumeDriver,
  type FakeVolumeDriverOptions,
} from './fake-volume-driver.ts'
export { withFileLock } from './file-lock.ts'
export { assertIDRange, ensureIdmapHelper, IDMAP_HELPER, idmapMount, NATIVE_DIR } from './idmap.ts'
export { createKeyedQueue, type KeyedQueue } from './keyed-queue.ts'
export { LLM_GUIDE } from './llm-guide.ts'
export { type LogFn, type Logger, noopLogger } from './logger.ts'
export { attachLoop, detachLoop, loopsOf, parseLosetupList } from './loop.ts'
export {
  isPathUnder,
  type MountEntry,
  mountsUnder,
  parseMountInfo,
  readMountInfo,
  unescapeMountPath,
} from './mountinfo.ts'
export { isMountPoint, mountExt4, unmountAll } from './mounts.ts'
export {
  assertDiskID,
  DISK_ID_RE,
  diskPath,
  imagePath,
  type Layout,
  layoutOf,
  mountPaths,
} from './names.ts'
export { type PoolOptions, preparePool, supportsReflink } from './pool.ts'
export {
  assertPoolHeadroom,
  DEFAULT_MIN_FREE_BYTES,
  freeBytes,
  isNoSpace,
  mapNoSpace,
  poolFullError,
} from './pool-space.ts'
export {
  createReflinkVolumeDriver,
  type ReflinkVolumeDriver,
  type ReflinkVolumeDriverOptions,
} from './reflink-volume-driver.ts'
export { type OnUndo, withRollback } from './rollback.ts'
export type * from './volume-driver.ts'
