import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { type ServerModule, sendJSON } from '../src/index.ts'
import { startTestServer } from './harness.ts'

test('modules add routes and upgrades; 101 carries Sprite-Version; close hooks run', async (t) => {
  const events: string[] = []
  const echo: ServerModule = (api) => {
    api.route('GET', '/v1/sprites/:name/hello', async (ctx) => {
      const sprite = await api.sprites.get(ctx.org, ctx.params.name!)
      sendJSON(ctx.res, 200, { hello: sprite.name })
    })
    api.route('GET', '/healthz', (ctx) => sendJSON(ctx.res, 200, { ok: true }), { auth: false })
    api.upgrade('/v1/sprites/:name/echo', async (ctx, socket, head) => {
      await api.sprites.get(ctx.org, ctx.params.name!)
      const ws = await api.acceptWebSocket(ctx, socket, head, {
        headers: { 'X-Sprite-Capabilities': 'signal' },
      })
      ws.on('message', (data) => ws.send(data))
    })
    api.onClose(() => {
      events.push('closed')
    })
  }
  const h = await startTestServer(t, { modules: [echo] })
  t.after(() => assert.deepEqual(events, ['closed']))
  await h.request('POST', '/v1/sprites', { body: { name: 'm' } })
  assert.deepEqual(await (await h.request('GET', '/v1/sprites/m/hello')).json(), { hello: 'm' })
  assert.equal((await h.request('GET', '/v1/sprites/zz/hello')).status, 404)
  assert.equal((await h.request('GET', '/healthz', { token: null })).status, 200)

  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/v1/sprites/m/echo`, {
    headers: { Authorization: `Bearer ${h.token}` },
  })
  const upgraded = new Promise<Record<string, unknown>>((resolve) =>
    ws.once('upgrade', (res) => resolve(res.headers)),
  )
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const headers = await upgraded
  assert.equal(headers['sprite-version'], '0.0.1-rc46')
  assert.equal(headers['x-sprite-capabilities'], 'signal')
  const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))))
  ws.send('ping')
  assert.equal(await reply, 'ping')

  const missing = new WebSocket(`${h.url.replace('http', 'ws')}/v1/sprites/nope/echo`, {
    headers: { Authorization: `Bearer ${h.token}` },
  })
  const status = await new Promise<number>((resolve) =>
    missing.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
  )
  assert.equal(status, 404)
  const clientClosed = new Promise((resolve) => ws.once('close', resolve))
  await h.server.close()
  await clientClosed
  assert.equal(ws.readyState, WebSocket.CLOSED)
})

test('list watch streams NDJSON: snapshot, then status changes and new sprites', async (t) => {
  const h = await startTestServer(t)
  await h.request('POST', '/v1/sprites', { body: { name: 'w1' } })
  const info = (await (
    await h.request('POST', '/v1/sprites', { body: { name: 'w2' } })
  ).json()) as { id: string }
  const controller = new AbortController()
  t.after(() => controller.abort())
  const res = await fetch(`${h.url}/v1/sprites`, {
    headers: { Authorization: `Bearer ${h.token}`, Accept: 'application/x-ndjson' },
    signal: controller.signal,
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson')
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  const nextLine = async (): Promise<Record<string, unknown>> => {
    while (!buffered.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) throw new Error('stream ended')
      buffered += value
    }
    const i = buffered.indexOf('\n')
    const line = buffered.slice(0, i)
    buffered = buffered.slice(i + 1)
    return JSON.parse(line)
  }
  assert.deepEqual([(await nextLine()).name, (await nextLine()).name], ['w1', 'w2'])
  h.host.setStatus(info.id, 'running')
  const change = await nextLine()
  assert.equal(change.name, 'w2')
  assert.equal(change.status, 'running')
  assert.equal((change.org as { name: string }).name, 'personal')
  await h.request('POST', '/v1/sprites', { body: { name: 'w3' } })
  const created = await nextLine()
  assert.equal(created.name, 'w3')
  assert.equal(created.status, 'cold')
  controller.abort()
})
