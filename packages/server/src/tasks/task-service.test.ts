import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_TASKS, TaskService } from './task-service.ts'

/** Activity that counts holds and touches. */
function activity() {
  const held = new Map<string, number>()
  return {
    held,
    hold(id: string) {
      held.set(id, (held.get(id) ?? 0) + 1)
      return () => held.set(id, (held.get(id) ?? 1) - 1)
    },
    touch() {},
  }
}

test('one sprite holds at most MAX_TASKS tasks; refreshing one of them is not one more', (t) => {
  const a = activity()
  const tasks = new TaskService({ activity: a as never })
  t.after(() => tasks.clear('s1'))
  for (let i = 0; i < MAX_TASKS; i++) tasks.create('s1', `t${i}`, '5m')
  assert.throws(() => tasks.create('s1', 'one-more', '5m'), {
    code: 'conflict',
    message: `a sprite has at most ${MAX_TASKS} tasks; delete one first`,
  })
  assert.throws(() => tasks.refresh('s1', 'one-more', '5m'), { code: 'conflict' })
  tasks.refresh('s1', 't0', '10m')
  tasks.delete('s1', 't1')
  tasks.create('s1', 'one-more', '5m')
  // Another sprite has its own count; the whole sprite holds one activity hold.
  tasks.create('s2', 'x', '1m')
  tasks.clear('s2')
  assert.equal(a.held.get('s1'), 1)
})
