import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSpritesError, SpritesError } from '@sprites/protocol'
import type { RuntimeDriver } from '@sprites/runtime'
import type { VolumeDriver } from '@sprites/storage'
import type { SpriteRecord, Store } from '@sprites/store'
import { RuntimeSpriteHost } from './runtime-sprite-host.ts'
import { wakeDeadline } from './wake-deadline.ts'

const unavailable = (pattern: RegExp) => (e: unknown) =>
  isSpritesError(e) &&
  e.code === 'sprite_unavailable' &&
  e.status === 503 &&
  e.details.retry_after_seconds === 5 &&
  pattern.test(e.message)

test('a wake past its deadline is a retryable 503; the wake itself is not cancelled', async () => {
  let finish: (v: string) => void = () => {}
  const wake = new Promise<string>((r) => {
    finish = r
  })
  await assert.rejects(wakeDeadline(wake, 20, 'slow'), unavailable(/slow is still waking/))
  finish('done')
  assert.equal(await wakeDeadline(wake, 20, 'slow'), 'done', 'a retry joins the same wake')
})

test('failures: SpritesErrors pass through, others become sprite_unavailable', async () => {
  const notFound = new SpritesError('sprite_not_found', 'gone')
  await assert.rejects(wakeDeadline(Promise.reject(notFound), 1000, 'x'), (e) => e === notFound)
  await assert.rejects(
    wakeDeadline(Promise.reject(new Error('mount failed')), 1000, 'x'),
    unavailable(/x could not be woken/),
  )
})

test('RuntimeSpriteHost.ensureRunning answers 503 when a boot hangs, and coalesces the retry', async () => {
  const sprite = {
    id: 'sprite-1',
    name: 'hung',
    uidBase: 1_065_536,
    slot: 1,
    config: { ramMB: 512, cpus: 1, region: 'local', storageGB: 1 },
  } as SpriteRecord
  let starts = 0
  const host = new RuntimeSpriteHost({
    store: {
      getSpriteByID: async () => sprite,
      updateSprite: async () => sprite,
    } as unknown as Store,
    volumes: { attach: async () => ({ rootfs: '/nonexistent' }) } as unknown as VolumeDriver,
    runtime: {
      start: () => {
        starts++
        return new Promise(() => {})
      },
    } as unknown as RuntimeDriver,
    network: { setup: async () => ({}), teardown: async () => {} } as never,
    spriteBinDir: '/nonexistent',
    log: { debug() {}, info() {}, warn() {}, error() {} },
    wakeTimeoutMs: 30,
  })
  await assert.rejects(host.ensureRunning(sprite), unavailable(/hung is still waking/))
  await assert.rejects(host.ensureRunning(sprite), unavailable(/hung is still waking/))
  assert.equal(starts, 1, 'the second call joined the boot under way')
  assert.equal(host.status(sprite), 'cold')
})
