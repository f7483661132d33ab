import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SpritesError } from '@sprites/protocol'

/** A lock held by this process until {@link ProcessLock.release} or its end. */
export interface ProcessLock {
  /** The lock file. */
  readonly path: string
  release(): Promise<void>
}

/** flock(1)'s exit code when the lock is taken (`-E`). */
const HELD = 75

// Takes the lock without waiting, says so, then holds it for as long as its stdin stays open:
// the pipe closes when this process ends, however it ends, and the kernel drops the flock
// with the last descriptor. Taking and dropping are atomic: no stale state, no race.
const HOLD = ['-n', '-E', String(HELD)]
const SCRIPT = 'echo locked; exec cat >/dev/null'

/**
 * Takes an exclusive flock(2) on `path` (created if missing) through a `flock` helper that lives
 * exactly as long as this process or until {@link ProcessLock.release}. A lock still held is
 * tried again for `waitMs`: the helper of a holder that was just killed needs a moment to go.
 * @throws SpritesError conflict when another process holds it, naming `what` it protects
 */
export async function acquireProcessLock(
  path: string,
  what: string,
  waitMs = 2000,
): Promise<ProcessLock> {
  await mkdir(dirname(path), { recursive: true })
  const deadline = performance.now() + waitMs
  for (;;) {
    const lock = await tryLock(path)
    if (lock) return lock
    if (performance.now() >= deadline) {
      throw new SpritesError(
        'conflict',
        `another spritesd is using ${what}; stop it first (lock ${path})`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** One attempt: the lock, or null while another process holds it. */
async function tryLock(path: string): Promise<ProcessLock | null> {
  const child = spawn('flock', [...HOLD, path, 'sh', '-c', SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const outcome = await new Promise<'locked' | number | Error>((resolve) => {
    child.stdout?.once('data', () => resolve('locked'))
    child.once('exit', (code) => resolve(code ?? -1))
    child.once('error', resolve)
  })
  if (outcome === 'locked') {
    child.unref()
    for (const s of [child.stdin, child.stdout, child.stderr]) refStream(s, false)
    return { path, release: () => stop(child) }
  }
  child.stdin?.destroy()
  if (outcome === HELD) return null
  const why = outcome instanceof Error ? outcome.message : `exit ${outcome}: ${stderr.trim()}`
  throw new SpritesError('internal', `cannot lock ${path}: ${why}`)
}

/** Ends the helper (closing its stdin ends `cat`) and waits until the lock is dropped. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  // Held unref'd so the lock never keeps the process alive; waited for, it must.
  child.ref()
  for (const s of [child.stdin, child.stdout, child.stderr]) refStream(s, true)
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin?.end()
  })
}

function refStream(s: unknown, ref: boolean): void {
  const r = s as { ref?: () => void; unref?: () => void } | null
  if (ref) r?.ref?.()
  else r?.unref?.()
}
