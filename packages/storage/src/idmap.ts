import { access, constants } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { SpritesError } from '@sprites/protocol'
import type { ExecFn } from './exec.ts'

/** Directory of the native helper's sources and Makefile. */
export const NATIVE_DIR = fileURLToPath(new URL('../native', import.meta.url))

/** Path of the compiled idmapped-mount helper. */
export const IDMAP_HELPER = `${NATIVE_DIR}/build/idmap-mount`

const MAX_ID = 2 ** 32 - 1

/** Throws `invalid_argument` unless base..base+count-1 is a valid range of host ids. */
export function assertIDRange(uidBase: number, uidCount: number): void {
  const ok =
    Number.isSafeInteger(uidBase) &&
    Number.isSafeInteger(uidCount) &&
    uidBase >= 0 &&
    uidCount >= 1 &&
    uidBase + uidCount <= MAX_ID
  if (!ok) {
    throw new SpritesError(
      'invalid_argument',
      `invalid uid range base=${uidBase} count=${uidCount}: need integers, count >= 1, base + count <= ${MAX_ID}`,
      { details: { uidBase, uidCount } },
    )
  }
}

let building: Promise<void> | undefined

/** Builds the helper with `make -C native` when it is missing (once per process at a time). */
export async function ensureIdmapHelper(exec: ExecFn): Promise<string> {
  const ready = await access(IDMAP_HELPER, constants.X_OK).then(
    () => true,
    () => false,
  )
  if (ready) return IDMAP_HELPER
  building ??= exec('make', ['-C', NATIVE_DIR]).then(
    () => {
      building = undefined
    },
    (err: unknown) => {
      building = undefined
      throw err
    },
  )
  await building
  return IDMAP_HELPER
}

/** Mounts an idmapped clone of `source` at `target` mapping on-disk 0..count-1 to base.. */
export async function idmapMount(
  exec: ExecFn,
  source: string,
  target: string,
  range: { uidBase: number; uidCount: number },
): Promise<void> {
  const helper = await ensureIdmapHelper(exec)
  await exec(helper, [source, target, String(range.uidBase), String(range.uidCount)])
}
