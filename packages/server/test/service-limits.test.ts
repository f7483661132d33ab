// Bounds on what one sprite's services can take on the host: at most MAX_SERVICES definitions,
// and deleted services' logs (kept, V4) only up to that many logs in all.
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  checkConflicts,
  encodeStored,
  MAX_SERVICES,
  parseDefinition,
} from '../src/supervisor/service-definition.ts'
import { staleLogs } from '../src/supervisor/sprite-services.ts'
import { setupServices } from './service-fixture.ts'

const def = (name: string) => parseDefinition(name, { cmd: 'sleep', args: ['1000'] })

test('the service count is capped with a 409', () => {
  const others = new Map(Array.from({ length: MAX_SERVICES }, (_, i) => [`s${i}`, def(`s${i}`)]))
  assert.throws(() => checkConflicts(def('one-more'), others), {
    code: 'conflict',
    message: `a sprite has at most ${MAX_SERVICES} services; delete one first`,
  })
  // Replacing one of them is not one more.
  checkConflicts(def('s3'), others)
})

test('stale logs: only deleted services, least recently written first, down to the cap', () => {
  const files = [
    { name: 'live', mtimeMs: 1 },
    { name: 'old', mtimeMs: 2 },
    { name: 'old', mtimeMs: 9 },
    { name: 'older', mtimeMs: 3 },
    { name: 'newer', mtimeMs: 5 },
  ]
  assert.deepEqual(staleLogs(files, new Set(['live', 'other']), 3), ['older', 'newer'])
  assert.deepEqual(staleLogs(files, new Set(['live']), 10), [])
  // Defined services are never pruned, even past the cap.
  assert.deepEqual(staleLogs([{ name: 'a', mtimeMs: 1 }], new Set(['a', 'b']), 1), [])
})

test('a new service prunes the oldest logs of deleted services over the cap', async (t) => {
  const h = await setupServices(t)
  mkdirSync(h.logDir, { recursive: true })
  // MAX_SERVICES logs of deleted services, `gone-0` the oldest; `web` and `idle` are defined.
  for (let i = 0; i < MAX_SERVICES; i++) {
    const f = join(h.logDir, `gone-${i}.log`)
    writeFileSync(f, 'x\n')
    utimesSync(f, 1_000 + i, 1_000 + i)
  }
  writeFileSync(join(h.logDir, 'gone-0.log.1'), 'x\n')
  utimesSync(join(h.logDir, 'gone-0.log.1'), 1_000, 1_000)
  const put = await h.request('PUT', '/v1/sprites/svc/services/fresh?duration=0', {
    body: { cmd: 'sleep', args: ['1000'] },
  })
  assert.equal(put.status, 200)
  await put.text()
  const names = new Set(readdirSync(h.logDir).map((f) => f.replace(/\.log(\.1)?$/, '')))
  // Loading `web` and `idle` at first use pruned 2, `fresh` one more: 3 deleted services' logs
  // went, the oldest ones, both of gone-0's files.
  for (const gone of ['gone-0', 'gone-1', 'gone-2']) assert.equal(names.has(gone), false, gone)
  assert.ok(names.has('gone-3') && names.has(`gone-${MAX_SERVICES - 1}`))
  assert.ok(names.size <= MAX_SERVICES, String(names.size))
})

test('definitions written from inside beyond the cap are ignored at boot', async (t) => {
  const lines = Array.from({ length: MAX_SERVICES + 10 }, (_, i) =>
    encodeStored({ ...def(`svc-${String(i).padStart(3, '0')}`), stopped: true }),
  )
  // The same name twice counts once.
  lines.push(encodeStored({ ...def('svc-000'), stopped: true }))
  const h = await setupServices(t, `${lines.join('\n')}\n`)
  const list = (await (await h.request('GET', '/v1/sprites/svc/services')).json()) as {
    name: string
  }[]
  assert.equal(list.length, MAX_SERVICES)
  assert.equal(list[0]?.name, 'svc-000')
  assert.equal(list.at(-1)?.name, `svc-${String(MAX_SERVICES - 1).padStart(3, '0')}`)
})
