import { statfs } from 'node:fs/promises'
import { isSpritesError, SpritesError } from '@sprites/protocol'
import { ExecError } from './exec.ts'

const MIB = 1024 ** 2

/** Free bytes a new disk or checkpoint leaves in the pool at least, by default. */
export const DEFAULT_MIN_FREE_BYTES = 256 * MIB

/** Errno codes of a full filesystem or an exhausted quota. */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT'])
/** What programs print for ENOSPC and EDQUOT (strerror). */
const NO_SPACE_TEXT = /No space left on device|Disk quota exceeded/i

/** Whether `err` is ENOSPC or EDQUOT: a Node fs error or a program that printed its strerror. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && NO_SPACE_CODES.has(code)) return true
  return err instanceof ExecError && NO_SPACE_TEXT.test(err.stderr)
}

/** Bytes an unprivileged writer may still allocate in the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

const mib = (bytes: number) => `${Math.floor(bytes / MIB)} MiB`

/**
 * The `insufficient_storage` (507) error of a full pool: how much is free, how much an operation
 * needs, and how to free space.
 */
export function poolFullError(
  pool: string,
  free: number,
  minFree: number,
  cause?: unknown,
): SpritesError {
  return new SpritesError(
    'insufficient_storage',
    `the storage pool is full (${mib(free)} free in ${pool}, ${mib(minFree)} must stay free): ` +
      'delete sprites or checkpoints that are no longer needed, or give the pool more space, ' +
      'then try again',
    { cause, details: { free_bytes: free, min_free_bytes: minFree } },
  )
}

/**
 * Throws `insufficient_storage` when the pool has less than `minFree` bytes free: a clone made
 * in a full pool would share every block and fail at its first write, so it is not made at all.
 */
export async function assertPoolHeadroom(pool: string, minFree: number): Promise<void> {
  const free = await freeBytes(pool)
  if (free < minFree) throw poolFullError(pool, free, minFree)
}

/** Runs `fn`; an ENOSPC or EDQUOT from it becomes `insufficient_storage`. */
export async function mapNoSpace<T>(pool: string, minFree: number, fn: () => Promise<T>) {
  try {
    return await fn()
  } catch (err) {
    if (isSpritesError(err) || !isNoSpace(err)) throw err
    const free = await freeBytes(pool).catch(() => 0)
    throw poolFullError(pool, free, minFree, err)
  }
}
