import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
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
  const path = join(tempDir(t), 'sub', 'spritesd.lock')
  const lock = await acquireProcessLock(path, '/data')
  await assert.rejects(acquireProcessLock(path, '/data'), {
    code: 'conflict',
    message: `another spritesd is using /data; stop it first (lock ${path})`,
  })
  await lock.release()
  assert.equal(existsSync(path), false, 'the socket file goes with the lock')
  const again = await acquireProcessLock(path, '/data')
  await again.release()
})

test('a holder killed with SIGKILL leaves a stale socket that is taken over', async (t) => {
  const path = join(tempDir(t), 'spritesd.lock')
  // Another process listens on the path, then dies without cleaning up.
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ])
  await new Promise((resolve) => child.stdout.once('data', resolve))
  await assert.rejects(acquireProcessLock(path, 'x'), { code: 'conflict' })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  assert.ok(existsSync(path), 'the dead holder left its socket file')
  const lock = await acquireProcessLock(path, 'x')
  await lock.release()
})

test('a path too long for a socket uses an abstract socket named after it', async (t) => {
  const path = join(tempDir(t), 'd'.repeat(120), 'spritesd.lock')
  const lock = await acquireProcessLock(path, 'long')
  assert.match(lock.path, /^@sprites-lock-[0-9a-f]{40}$/)
  await assert.rejects(acquireProcessLock(path, 'long'), { code: 'conflict' })
  await lock.release()
  const again = await acquireProcessLock(path, 'long')
  await again.release()
})
