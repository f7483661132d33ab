import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { acquireProcessLock } from './process-lock.ts'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-lock-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('one holder at a time; released, it can be taken again', async (t) => {
  // (waitMs 0: a lock held is reported at once instead of after the default 2 s of retries)
  const path = join(tempDir(t), 'sub', 'spritesd-data.lock')
  const lock = await acquireProcessLock(path, '/data')
  await assert.rejects(acquireProcessLock(path, '/data', 0), {
    code: 'conflict',
    message: `another spritesd is using /data; stop it first (lock ${path})`,
  })
  await lock.release()
  const again = await acquireProcessLock(path, '/data')
  await again.release()
})

test('of many taking it at the same moment, exactly one gets it', async (t) => {
  const path = join(tempDir(t), 'race.lock')
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, () => acquireProcessLock(path, 'x', 0)),
  )
  const won = results.filter((r) => r.status === 'fulfilled')
  assert.equal(won.length, 1)
  for (const r of results) {
    if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'conflict')
  }
  await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release()
})

test('a holder killed with SIGKILL leaves nothing that blocks the next one', async (t) => {
  const path = join(tempDir(t), 'spritesd.lock')
  // Another process takes the lock through this module, then dies without any cleanup.
  const module = new URL('./process-lock.ts', import.meta.url).pathname
  const script = `import(${JSON.stringify(module)}).then((m) => m.acquireProcessLock(${JSON.stringify(path)}, 'x')).then(() => { console.log('up'); setInterval(() => {}, 1000) })`
  const child = spawn(process.execPath, [...process.execArgv, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => child.kill('SIGKILL'))
  await new Promise((resolve) => child.stdout.once('data', resolve))
  await assert.rejects(acquireProcessLock(path, 'x', 0), { code: 'conflict' })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  // Its helper sees its stdin close and lets go within moments: the default wait covers it.
  const lock = await acquireProcessLock(path, 'x')
  await lock.release()
})
