// Drives the official @fly/sprites 0.1.0 client against this server (fake host).
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { startTestServer } from './harness.ts'

type SDK = typeof import('@fly/sprites')
let sdk: SDK

before(async () => {
  // The SDK expects a global WebSocket with a `headers` option (Node ≥ 24); undici's fits on Node 20.
  const g = globalThis as { WebSocket?: unknown }
  g.WebSocket ??= (await import('undici')).WebSocket
  sdk = await import('@fly/sprites')
})

test('createSprite, getSprite, updateSprite, deleteSprite', async (t) => {
  const h = await startTestServer(t)
  const client = new sdk.SpritesClient(h.token, { baseURL: h.url })
  const made = await client.createSprite('sdk-box', {
    config: { ramMB: 1024, cpus: 1 },
    environment: { HELLO: 'world' },
    labels: ['one'],
  })
  assert.equal(made.name, 'sdk-box')
  assert.match(made.id ?? '', /^sprite-/)
  assert.equal(made.status, 'cold')
  assert.equal(made.organizationName, 'personal')
  assert.deepEqual(made.config, { ramMB: 1024, cpus: 1, region: 'local', storageGB: 10 })
  assert.deepEqual(made.environment, { HELLO: 'world' })
  const got = await client.getSprite('sdk-box')
  assert.equal(got.id, made.id)
  assert.ok(got.createdAt instanceof Date && !Number.isNaN(got.createdAt.getTime()))
  assert.deepEqual(got.labels, ['one'])
  const updated = await client.updateSprite('sdk-box', {
    labels: ['two'],
    urlSettings: { auth: 'public' },
  })
  assert.deepEqual(updated.labels, ['two'])
  assert.deepEqual(updated.urlSettings, { auth: 'public', privateAccess: undefined })
  await client.updateURLSettings('sdk-box', { auth: 'sprite' })
  assert.equal((await client.getSprite('sdk-box')).urlSettings?.auth, 'sprite')
  await client.deleteSprite('sdk-box')
  await assert.rejects(client.getSprite('sdk-box'), (err: unknown) => {
    assert.ok(err instanceof sdk.APIError)
    assert.equal(err.statusCode, 404)
    assert.equal(err.errorCode, 'sprite_not_found')
    return true
  })
})

test('listSprites and listAllSprites page through more than 50', async (t) => {
  const h = await startTestServer(t)
  const client = new sdk.SpritesClient(h.token, { baseURL: h.url })
  for (let i = 0; i < 61; i++) await client.createSprite(`p${String(i).padStart(2, '0')}`)
  await client.createSprite('other')
  const first = await client.listSprites({ maxResults: 50 })
  assert.equal(first.sprites.length, 50)
  assert.equal(first.hasMore, true)
  assert.equal(first.cold, 62)
  assert.equal(first.organizationName, 'personal')
  assert.equal(first.runningLimit, 10)
  const all = await client.listAllSprites('p')
  assert.equal(all.length, 61)
  assert.equal(all[0]?.name, 'p00')
  assert.equal(all.at(-1)?.name, 'p60')
  assert.equal((await client.listAllSprites()).length, 62)
})

test('bad token and duplicate name surface as APIError', async (t) => {
  const h = await startTestServer(t)
  const bad = new sdk.SpritesClient('personal/abcde/tok/wrong', { baseURL: h.url })
  await assert.rejects(bad.listSprites(), (err: unknown) => {
    assert.ok(err instanceof sdk.APIError)
    assert.equal(err.statusCode, 401)
    assert.equal(err.errorCode, 'unauthorized')
    return true
  })
  const client = new sdk.SpritesClient(h.token, { baseURL: h.url })
  await client.createSprite('twice')
  await assert.rejects(client.createSprite('twice'), {
    statusCode: 409,
    errorCode: 'sprite_already_exists',
  })
})

test('checkSprite and control fallback', async (t) => {
  const h = await startTestServer(t)
  const client = new sdk.SpritesClient(h.token, { baseURL: h.url })
  await client.createSprite('chk')
  const check = await client.checkSprite('chk')
  assert.equal(check.status, 'hibernated')
  assert.ok(check.checkedAt instanceof Date)
})
