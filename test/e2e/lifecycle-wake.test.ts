// Every kind of operation that needs a sprite wakes it, from warm and from cold; metadata reads
// never do (sprites-api.md §11 wake triggers).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { api, createSprite, deleteAll, sh, waitUntil } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

/** Short lifecycle timings: idle 400 ms → warm, warm 400 ms → cold. */
const FAST = {
  SPRITES_WARM_AFTER_MS: '400',
  SPRITES_COLD_AFTER_MS: '400',
  SPRITES_LIFECYCLE_TICK_MS: '100',
}

describe('wake triggers', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const name = uniqueName('wake')

  before(async () => {
    srv = await startSpritesd(FAST)
    await createSprite(srv, name)
    await sh(srv, name, 'true')
  })
  after(async () => {
    await deleteAll(srv, [name])
    await srv?.stop()
  })

  const status = async () =>
    ((await api(srv, 'GET', `/v1/sprites/${name}`)).json as { status: string }).status

  async function reach(want: 'warm' | 'cold'): Promise<void> {
    await waitUntil(async () => (await status()) === want, 15_000, `sprite ${want}`)
  }

  const operations: Array<[string, () => Promise<void>]> = [
    ['exec', async () => void (await sh(srv, name, 'true'))],
    [
      'services list',
      async () => assert.equal((await api(srv, 'GET', `/v1/sprites/${name}/services`)).status, 200),
    ],
    ['TCP proxy socket', () => proxyOpen(srv, name)],
  ]

  for (const from of ['warm', 'cold'] as const) {
    for (const [what, op] of operations) {
      test(`${what} wakes a ${from} sprite`, { timeout: 60_000 }, async () => {
        await reach(from)
        await op()
        assert.equal(await status(), 'running')
      })
    }
  }

  test('metadata reads, list and HEAD exec never wake', { timeout: 60_000 }, async () => {
    await reach('cold')
    for (let i = 0; i < 5; i++) {
      assert.equal((await api(srv, 'GET', `/v1/sprites/${name}`)).status, 200)
      assert.equal((await api(srv, 'GET', '/v1/sprites')).status, 200)
      assert.equal((await api(srv, 'HEAD', `/v1/sprites/${name}/exec`)).status, 200)
      assert.equal((await api(srv, 'GET', `/v1/sprites/${name}/check`)).status, 200)
      assert.equal((await api(srv, 'GET', `/v1/sprites/${name}/checkpoints`)).status, 200)
    }
    assert.equal(await status(), 'cold')
  })
})

/** Opens a TCP proxy socket to a port nobody listens on: the sprite must be up to answer. */
function proxyOpen(srv: Spritesd, name: string): Promise<void> {
  const ws = new WebSocket(`${srv.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/proxy`, {
    headers: { authorization: `Bearer ${srv.token}` },
  })
  return new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ host: 'localhost', port: 1 })))
    ws.once('message', (d) => {
      const reply = JSON.parse(String(d)) as { status: string }
      ws.close()
      if (reply.status === 'error' || reply.status === 'connected') resolve()
      else reject(new Error(String(d)))
    })
    ws.once('error', reject)
  })
}
