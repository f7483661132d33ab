// Conformance: sprite management through the real @fly/sprites package against a live spritesd.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0

describe('@fly/sprites sprite management', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  let client: any
  const prefix = uniqueName('page')
  const names = Array.from({ length: 55 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`)

  before(async () => {
    srv = await startSpritesd()
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
  })
  after(async () => {
    for (const n of names) await client?.deleteSprite(n).catch(() => undefined)
    await srv?.stop()
  })

  test('create returns a cold sprite with the contract fields', async () => {
    const s = await client.createSprite(names[0], { labels: ['a'], environment: { FOO: 'bar' } })
    assert.equal(s.name, names[0])
    assert.match(s.id, /^sprite-[0-9a-f-]{36}$/)
    assert.equal(s.status, 'cold')
    assert.deepEqual(s.labels, ['a'])
    assert.ok(s.createdAt instanceof Date)
    const r = await s.execFile('sh', ['-c', 'echo $FOO'])
    assert.equal(r.stdout, 'bar\n', 'the sprite environment reaches exec')
    await assert.rejects(
      client.createSprite(names[0]),
      (e: { statusCode: number }) => e.statusCode === 409,
    )
  })

  test('list pages through more than one page with continuation tokens', async () => {
    for (const n of names.slice(1)) await client.createSprite(n)
    const first = await client.listSprites({ prefix, maxResults: 20 })
    assert.equal(first.sprites.length, 20)
    assert.equal(first.hasMore, true)
    assert.ok(first.nextContinuationToken)
    const second = await client.listSprites({
      prefix,
      maxResults: 20,
      continuationToken: first.nextContinuationToken,
    })
    assert.equal(second.sprites[0].name, names[20])
    const all = await client.listAllSprites(prefix)
    assert.deepEqual(
      all.map((s: { name: string }) => s.name),
      names,
    )
  })

  test('restart makes the sprite cold, boots it again and answers once it runs', async () => {
    const s = client.sprite(names[2])
    await s.execFile('sh', ['-c', 'echo kept > ~/kept.txt; sleep 300 >/dev/null 2>&1 &'])
    const r = await fetch(`${srv.baseURL}/v1/sprites/${names[2]}/restart`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}` },
    })
    assert.equal(r.status, 200)
    const body = (await r.json()) as { sprite_name: string; machine_id: string }
    assert.equal(body.sprite_name, names[2])
    assert.match(body.machine_id, /^sp-[0-9a-f]{16}$/)
    assert.equal((await client.getSprite(names[2])).status, 'running')
    const after = await s.execFile('sh', ['-c', 'cat ~/kept.txt; pgrep -c sleep || true'])
    assert.equal(after.stdout, 'kept\n0\n', 'the disk is kept, the processes are not')
  })

  test('get, update labels and URL settings, delete', async () => {
    const got = await client.getSprite(names[1])
    assert.equal(got.name, names[1])
    await client.updateSprite(names[1], { labels: ['x', 'y'] })
    await client.updateURLSettings(names[1], { auth: 'public' })
    const updated = await client.getSprite(names[1])
    assert.deepEqual(updated.labels, ['x', 'y'])
    assert.equal(updated.urlSettings.auth, 'public')
    await client.deleteSprite(names[1])
    await assert.rejects(
      client.getSprite(names[1]),
      (e: { statusCode: number }) => e.statusCode === 404,
    )
  })
})
