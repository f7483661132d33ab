import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createKeyedQueue } from './keyed-queue.ts'
import { withRollback } from './rollback.ts'

test('undo steps run in reverse order and the first error is rethrown', async () => {
  const done: string[] = []
  const undoErrors: unknown[] = []
  const failing = withRollback(
    async (onUndo) => {
      onUndo(async () => done.push('a'))
      onUndo(async () => {
        throw new Error('undo b failed')
      })
      onUndo(async () => done.push('c'))
      throw new Error('step failed')
    },
    (err) => undoErrors.push(err),
  )
  await assert.rejects(failing, /step failed/)
  assert.deepEqual(done, ['c', 'a'])
  assert.equal(undoErrors.length, 1)
})

test('no undo runs on success', async () => {
  let undone = false
  const result = await withRollback(async (onUndo) => {
    onUndo(async () => {
      undone = true
    })
    return 7
  })
  assert.equal(result, 7)
  assert.equal(undone, false)
})

test('the keyed queue serializes work per key and survives failures', async () => {
  const queue = createKeyedQueue()
  const order: string[] = []
  const slow = queue('k', async () => {
    await new Promise((r) => setImmediate(r))
    order.push('first')
    throw new Error('boom')
  })
  const next = queue('k', async () => order.push('second'))
  const other = queue('j', async () => order.push('other'))
  await assert.rejects(slow, /boom/)
  await next
  await other
  assert.deepEqual(order, ['other', 'first', 'second'])
})
