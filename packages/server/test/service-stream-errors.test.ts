// Service NDJSON streams (sprites-api.md §1.4, §7): a failure after the headers went out is an
// `error` event followed by `complete`, never a cut connection; failures before are JSON errors.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Json, setupServices as setup } from './service-fixture.ts'

/** Reads an NDJSON response: every line must be whole JSON and the body must end with `\n`. */
async function events(r: Response): Promise<Json[]> {
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'application/x-ndjson')
  const text = await r.text()
  assert.ok(text.endsWith('\n'), `the stream ends with a whole line: ${JSON.stringify(text)}`)
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Json)
}

test('a failure after the headers is an error event, then complete', async (t) => {
  const h = await setup(t)
  const base = '/v1/sprites/svc/services'
  const web = (await (await h.request('GET', `${base}/web`)).json()) as { state: Json }
  assert.equal(web.state.status, 'running')

  h.sandbox.saves = 'exit-1'
  for (const [path, svc] of [
    ['/web/stop', 'web'],
    ['/web/restart?duration=0', 'web'],
    ['/idle/start?duration=0', 'idle'],
  ] as const) {
    const evs = await events(await h.request('POST', `${base}${path}`))
    const types = evs.map((e) => e.type)
    assert.deepEqual(types.slice(-2), ['error', 'complete'], `${path}: ${JSON.stringify(evs)}`)
    const err = evs.at(-2) as Json
    assert.match(String(err.data), new RegExp(`could not save service ${svc}: No space left`))
    assert.equal(typeof err.timestamp, 'number')
    const done = evs.at(-1) as { log_files: Json; timestamp: unknown }
    assert.equal(done.log_files.combined, `/.sprite/logs/services/${svc}.log`)
    assert.equal(typeof done.timestamp, 'number')
  }

  // Not a SpritesError: logged, and the event says what a 500 would.
  h.sandbox.saves = 'spawn-error'
  const evs = await events(await h.request('POST', `${base}/idle/start?duration=0`))
  assert.deepEqual(
    evs.map((e) => [e.type, e.data]),
    [
      ['error', 'internal server error'],
      ['complete', undefined],
    ],
  )
})

test('failures before streaming stay JSON errors; success streams as before', async (t) => {
  const h = await setup(t)
  const base = '/v1/sprites/svc/services'
  h.sandbox.saves = 'exit-1'
  const put = await h.request('PUT', `${base}/new?duration=0`, { body: { cmd: 'sleep' } })
  assert.equal(put.status, 500)
  assert.equal(((await put.json()) as Json).error, 'internal')
  const idleStop = await h.request('POST', `${base}/idle/stop`)
  assert.equal(idleStop.status, 409)

  h.sandbox.saves = 'ok'
  const started = await events(await h.request('POST', `${base}/idle/start?duration=0`))
  assert.deepEqual(
    started.map((e) => e.type),
    ['started', 'complete'],
  )
  const again = await events(await h.request('POST', `${base}/idle/start`))
  assert.deepEqual(
    again.map((e) => e.type),
    ['complete'],
  )
})
