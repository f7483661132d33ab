import { readFileSync } from 'node:fs'

/**
 * The hard `RLIMIT_NOFILE` of this process, from `/proc/self/limits`. A container inherits it
 * through the runtime, and root inside a user namespace cannot raise a hard limit above it.
 * Returns `fallback` when the file cannot be read or says `unlimited`.
 */
export function readNofileHardLimit(fallback = 1024, limitsPath = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limitsPath, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const hard = line?.trim().split(/\s+/)[4]
    const n = Number(hard)
    return Number.isSafeInteger(n) && n > 0 ? n : fallback
  } catch {
    return fallback
  }
}
