import { readFile } from 'node:fs/promises'

/** `MemAvailable` of `/proc/meminfo` in MiB; Infinity when it cannot be read. */
export async function memAvailableMB(path = '/proc/meminfo'): Promise<number> {
  try {
    const text = await readFile(path, 'utf8')
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(text)
    return m ? Number(m[1]) / 1024 : Number.POSITIVE_INFINITY
  } catch {
    return Number.POSITIVE_INFINITY
  }
}
