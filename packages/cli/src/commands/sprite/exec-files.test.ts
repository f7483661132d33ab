import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { parseCommandLine } from '../../parse-command-line.ts'
import { isUsageError } from '../../usage-error.ts'
import { parseFileSpec, readUploads } from './exec-files.ts'

test('--file <local>:<remote> splits at the last colon', () => {
  assert.deepEqual(parseFileSpec('a.txt:/tmp/a.txt'), { local: 'a.txt', remote: '/tmp/a.txt' })
  assert.deepEqual(parseFileSpec('./x:y:rel/y'), { local: './x:y', remote: 'rel/y' })
  for (const bad of ['a.txt', ':/tmp/a', 'a.txt:', '']) {
    assert.throws(
      () => parseFileSpec(bad),
      (e: Error) => isUsageError(e) && /--file/.test(e.message),
    )
  }
})

test('--file is repeatable and stays apart from the remote command', () => {
  const inv = parseCommandLine(['exec', '--file', 'a:/a', '--file', 'b:/b', '--', 'ls', '--file'])
  assert.deepEqual(inv.args.values.file, ['a:/a', 'b:/b'])
  assert.deepEqual(inv.args.argv, ['ls', '--file'])
})

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprite-files-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('readUploads reads every file with its mode, relative to cwd', (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'run.sh'), Buffer.from([0, 1, 2]))
  chmodSync(join(dir, 'run.sh'), 0o750)
  const [u] = readUploads(['run.sh:bin/run.sh'], dir)
  assert.deepEqual(u, {
    local: 'run.sh',
    remote: 'bin/run.sh',
    data: Buffer.from([0, 1, 2]),
    mode: 0o750,
  })
})

test('a missing or non-regular local file is one clear error before anything is sent', (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'ok'), 'x')
  assert.throws(() => readUploads(['ok:/ok', 'nope.txt:/x'], dir), {
    code: 'invalid_argument',
    message: '--file nope.txt: no such file',
  })
  assert.throws(() => readUploads(['.:/x'], dir), { message: '--file .: EISDIR' })
})
