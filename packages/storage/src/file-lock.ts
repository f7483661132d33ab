import { open, readFile, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

const POLL_MS = 200

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Creates `path` exclusively holding our pid; false when a live process holds it. */
async function tryAcquire(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx')
    await fh.writeFile(`${process.pid}\n`)
    await fh.close()
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
  // An empty file means the holder has not written its pid yet: keep waiting.
  if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) return false
  // The holder died: its stale lock is removed and the next attempt takes it.
  await rm(path, { force: true })
  return false
}

/**
 * Runs `fn` while holding a lock file shared across processes (`O_EXCL` create plus the
 * holder's pid; a lock whose holder is gone counts as free).
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  while (!(await tryAcquire(path))) await sleep(POLL_MS)
  try {
    return await fn()
  } finally {
    await rm(path, { force: true })
  }
}
