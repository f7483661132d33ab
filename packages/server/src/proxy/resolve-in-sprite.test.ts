import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { Sandbox, SpawnOptions } from '@sprites/runtime'
import { resolveInSprite } from './resolve-in-sprite.ts'

/** A sandbox whose root helper prints `out` and exits 0, recording what it was asked. */
function fakeSandbox(out: string) {
  const asked: string[][] = []
  const sandbox = {
    async spawn(o: SpawnOptions) {
      asked.push(o.argv)
      const p = new EventEmitter() as EventEmitter & Record<string, unknown>
      p.pid = 3
      p.signal = () => undefined
      setImmediate(() => {
        p.emit('stdout', Buffer.from(out))
        p.emit('exit', 0)
      })
      return p
    },
  } as unknown as Sandbox
  return { sandbox, asked }
}

test('IP literals and localhost are dialled as they are, without a helper', async () => {
  const { sandbox, asked } = fakeSandbox('')
  for (const h of ['localhost', '127.0.0.1', '10.1.2.3', '::1']) {
    assert.equal(await resolveInSprite(sandbox, h), h)
  }
  assert.equal(asked.length, 0)
})

test('a name is resolved inside the sprite; the first IPv4 address is used', async () => {
  const { sandbox, asked } = fakeSandbox('93.184.215.14   STREAM example.com\n')
  assert.equal(await resolveInSprite(sandbox, 'example.com'), '93.184.215.14')
  assert.equal(asked[0]?.at(-1), 'example.com', 'the name is an argument, not script text')
})

test('malformed names are refused; names that do not resolve are not_found', async () => {
  const { sandbox, asked } = fakeSandbox('')
  for (const bad of ['a b', '$(id)', '-x', 'a..b', `${'a'.repeat(64)}.com`, 'x;y']) {
    await assert.rejects(resolveInSprite(sandbox, bad), { code: 'invalid_argument' }, bad)
  }
  assert.equal(asked.length, 0)
  await assert.rejects(resolveInSprite(sandbox, 'nowhere.invalid'), {
    code: 'not_found',
    message: 'cannot resolve nowhere.invalid inside the sprite',
  })
})
