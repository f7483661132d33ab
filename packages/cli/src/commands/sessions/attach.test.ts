import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SessionSummary } from '@sprites/sdk'
import { isUsageError } from '../../usage-error.ts'
import { pickSession } from './attach.ts'

const session = (id: number, command: string): SessionSummary => ({
  id,
  command,
  workdir: '/home/sprite',
  created: null,
  lastActivity: null,
  bytesPerSecond: 0,
  isActive: true,
  tty: true,
})

test('attach by command: the exact command first, then the program name', () => {
  const list = [session(3, '/bin/bash -l'), session(7, 'python3 app.py'), session(9, 'bash')]
  assert.equal(pickSession('python3 app.py', list), 7)
  assert.equal(pickSession('python3', list), 7)
  // `bash` is exactly session 9's command, so the -l one does not make it ambiguous.
  assert.equal(pickSession('bash', list), 9)
  assert.throws(() => pickSession('node', list), /no running session runs "node"/)
  const two = [session(3, '/bin/bash -l'), session(4, 'bash -i')]
  assert.throws(
    () => pickSession('bash', two),
    /several sessions run "bash" \(3, 4\): pass the session id/,
  )
  assert.throws(
    () => pickSession('x', []),
    (err) => isUsageError(err),
  )
})
