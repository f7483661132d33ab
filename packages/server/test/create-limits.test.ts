// Operator limits on creating sprites (sprites-api.md §1.3 429, §2.2 M1, M10): a cap per org and
// a creation rate, each a 429 with Retry-After and X-RateLimit-*, as the official client reads it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SpritesClient } from '@fly/sprites'
import { createLimits } from '../src/services/create-limits.ts'
import { startTestServer } from './harness.ts'

test('no limit configured: creates are never refused', async () => {
  const limits = createLimits({ maxSprites: null, createsPerMinute: null })
  for (let i = 0; i < 1000; i++) await limits.admit('org', async () => i)
})

test('the rate is a bucket of N refilled over a minute, per organization', async () => {
  let now = 1_000_000
  const wall = 1_800_000_000_000
  const limits = createLimits(
    { maxSprites: null, createsPerMinute: 3 },
    () => now,
    () => wall,
  )
  const none = async () => 0
  for (let i = 0; i < 3; i++) await limits.admit('a', none)
  await assert.rejects(limits.admit('a', none), (err: Error & Record<string, unknown>) => {
    assert.equal(err.code, 'sprite_creation_rate_limited')
    assert.equal((err as unknown as { status: number }).status, 429)
    const d = (err as unknown as { details: Record<string, number> }).details
    assert.deepEqual(d, {
      limit: 3,
      window_seconds: 60,
      retry_after_seconds: 20,
      rate_limit_reset: Math.ceil((wall + 20_000) / 1000),
    })
    return true
  })
  await limits.admit('b', none)
  now += 20_000
  await limits.admit('a', none)
  await assert.rejects(limits.admit('a', none), { code: 'sprite_creation_rate_limited' })
  // A clock that goes back does not drain the bucket.
  now -= 600_000
  await assert.rejects(limits.admit('a', none), (err: Error) => {
    const d = (err as unknown as { details: Record<string, number> }).details
    assert.ok((d.retry_after_seconds ?? 99) <= 20, String(d.retry_after_seconds))
    return true
  })
})

test('creates admitted but not yet stored count against the cap', async () => {
  const limits = createLimits({ maxSprites: 2, createsPerMinute: null })
  const stored = async () => 0
  const first = await limits.admit('a', stored)
  const second = await limits.admit('a', stored)
  await assert.rejects(limits.admit('a', stored), { code: 'concurrent_sprite_limit_exceeded' })
  first()
  first()
  const third = await limits.admit('a', stored)
  second()
  third()
})

test('the cap counts the sprites the org has; a refused create takes no creation', async () => {
  const limits = createLimits({ maxSprites: 2, createsPerMinute: 2 })
  await assert.rejects(
    limits.admit('a', async () => 2),
    {
      code: 'concurrent_sprite_limit_exceeded',
      message:
        'this organization has 2 sprites, the most this server allows is 2; delete one first',
    },
  )
  // Each one stored before the next: done() hands the count over to the store.
  ;(await limits.admit('a', async () => 1))()
  ;(await limits.admit('a', async () => 1))()
})

test('over HTTP: 429 with the headers, and the official client sees a rate-limit error', async (t) => {
  const h = await startTestServer(t, { argv: ['--max-sprites', '2', '--creates-per-minute', '60'] })
  for (const name of ['one', 'two']) {
    assert.equal((await h.request('POST', '/v1/sprites', { body: { name } })).status, 201)
  }
  const r = await h.request('POST', '/v1/sprites', { body: { name: 'three' } })
  assert.equal(r.status, 429)
  assert.equal(r.headers.get('x-ratelimit-limit'), '2')
  assert.equal(r.headers.get('x-ratelimit-remaining'), '0')
  assert.match(r.headers.get('x-ratelimit-reset') ?? '', /^\d{10}$/)
  assert.equal(r.headers.get('retry-after'), '60')
  const body = (await r.json()) as Record<string, unknown>
  assert.equal(body.error, 'concurrent_sprite_limit_exceeded')
  assert.equal(body.current_count, 2)
  const org = (await (await h.request('GET', '/v1/organization')).json()) as {
    organization: { max_sprites: number }
  }
  assert.equal(org.organization.max_sprites, 2)

  const client = new SpritesClient(h.token, { baseURL: h.url })
  await assert.rejects(client.createSprite('four'), (err: Record<string, unknown> & Error) => {
    assert.equal(err.statusCode, 429)
    assert.equal(err.errorCode, 'concurrent_sprite_limit_exceeded')
    assert.equal(err.rateLimitLimit, 2)
    assert.equal(err.currentCount, 2)
    assert.equal((err as unknown as { isRateLimitError(): boolean }).isRateLimitError(), true)
    return true
  })
})
