import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { sendJSON, startFakeServer } from '../test/fake-server.ts'
import { SpritesClient } from './client.ts'
import { resourcesFromWire, resourcesToWire } from './policies.ts'

async function setup(t: TestContext, answer: (method: string, path: string) => [number, unknown?]) {
  const server = await startFakeServer({
    http: (req, res) => {
      const [status, body] = answer(req.method, req.url.pathname)
      if (body === undefined) {
        res.writeHead(status)
        res.end()
      } else sendJSON(res, status, body)
    },
  })
  t.after(() => server.close())
  const client = new SpritesClient({ baseURL: server.baseURL, token: 'personal/abcde/t1/s' })
  const bodies = () => server.requests.map((r) => `${r.method} ${r.url.pathname} ${r.body}`)
  return { client, bodies }
}

test('network policy: GET as sent, POST the rules, 400 becomes invalid_argument', async (t) => {
  const rules = [
    { domain: 'a.example', action: 'allow' as const },
    { include: 'defaults' as const },
  ]
  const { client, bodies } = await setup(t, (method) =>
    method === 'GET'
      ? [200, { rules }]
      : [400, { error: 'invalid_argument', message: 'invalid policy: rule 0 …' }],
  )
  assert.deepEqual(await client.getNetworkPolicy('s'), { rules })
  await assert.rejects(client.updateNetworkPolicy('s', { rules }), {
    code: 'invalid_argument',
    message: /invalid policy/,
  })
  assert.deepEqual(bodies(), [
    'GET /v1/sprites/s/policy/network ',
    `POST /v1/sprites/s/policy/network ${JSON.stringify({ rules })}`,
  ])
})

test('privileges and resources: camelCase on our side, limit_mb on the wire, DELETE', async (t) => {
  const { client, bodies } = await setup(t, (method, path) => {
    if (method !== 'GET') return [204]
    return path.endsWith('resources')
      ? [200, { memory: { limit_mb: 512, autoscale: false } }]
      : [200, { profile: 'minimal' }]
  })
  assert.deepEqual(await client.getPrivilegesPolicy('s'), { profile: 'minimal' })
  assert.deepEqual(await client.getResourcesPolicy('s'), {
    memory: { limitMB: 512, autoscale: false },
  })
  await client.updatePrivilegesPolicy('s', { noNewPrivileges: true })
  await client.updateResourcesPolicy('s', { memory: { limitMB: 256, autoscale: true } })
  await client.deletePrivilegesPolicy('s')
  await client.deleteResourcesPolicy('s')
  assert.deepEqual(bodies().slice(2), [
    'POST /v1/sprites/s/policy/privileges {"noNewPrivileges":true}',
    'POST /v1/sprites/s/policy/resources {"memory":{"limit_mb":256,"autoscale":true}}',
    'DELETE /v1/sprites/s/policy/privileges ',
    'DELETE /v1/sprites/s/policy/resources ',
  ])
})

test('resources conversion both ways', () => {
  assert.deepEqual(resourcesFromWire({}), {})
  assert.deepEqual(resourcesFromWire(null), {})
  assert.deepEqual(resourcesFromWire({ memory: { limit_mb: 64 } }), {
    memory: { limitMB: 64, autoscale: false },
  })
  assert.deepEqual(resourcesToWire({}), {})
  assert.deepEqual(resourcesToWire({ memory: { limitMB: 64 } }), { memory: { limit_mb: 64 } })
})
