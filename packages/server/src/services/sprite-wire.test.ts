import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SpriteRecord } from '@sprites/store'
import { spriteURL, toWire } from './sprite-wire.ts'

const org = { id: 'ab1c2', slug: 'personal', createdAt: new Date(0) }
const sprite: SpriteRecord = {
  id: 'sprite-00000000-0000-4000-8000-000000000000',
  orgID: 'ab1c2',
  name: 'box',
  status: 'cold',
  opState: 'ready',
  config: { ramMB: 1024, cpus: 1, region: 'local', storageGB: 5 },
  environment: { A: 'b' },
  urlSettings: { auth: 'public', privateAccess: 'org_users' },
  labels: ['l'],
  runtime: 'default',
  slot: 1,
  uidBase: 1_065_536,
  version: 'v7',
  createdAt: new Date('2026-01-13T10:30:00Z'),
  updatedAt: new Date('2026-01-13T10:31:00Z'),
  lastRunningAt: new Date('2026-01-13T10:32:00.5Z'),
  lastWarmingAt: null,
  lastStartedAt: null,
  lastActiveAt: null,
}
const https = {
  baseDomain: 'sprites.example.com',
  spriteURL: { scheme: 'https' as const, port: null },
  lifecycle: { warmAfterMs: 30_000, coldAfterMs: 600_000 },
}

test('toWire sends every SpriteInfo field', () => {
  assert.deepEqual(toWire(sprite, org, 'running', https), {
    id: sprite.id,
    name: 'box',
    organization: 'personal',
    org_slug: 'personal',
    status: 'running',
    config: { ram_mb: 1024, cpus: 1, region: 'local', storage_gb: 5 },
    environment: { A: 'b' },
    url: 'https://box-ab1c2.sprites.example.com',
    url_settings: { auth: 'public', private_access: 'org_users' },
    labels: ['l'],
    created_at: '2026-01-13T10:30:00.000Z',
    updated_at: '2026-01-13T10:31:00.000Z',
    last_running_at: '2026-01-13T10:32:00.500Z',
    last_warming_at: null,
    last_started_at: null,
    last_active_at: null,
    version: 'v7',
    environment_version: 'v7',
    primary_region: 'local',
    lifecycle: { warm_after_s: 30, cold_after_s: 600 },
  })
})

test('lifecycle (X3): the sprite own timings, the server settings for the rest', () => {
  const own = (lifecycle: SpriteRecord['lifecycle']) =>
    toWire({ ...sprite, lifecycle }, org, 'cold', https).lifecycle
  assert.deepEqual(own({ warmAfterS: 1, coldAfterS: 5 }), { warm_after_s: 1, cold_after_s: 5 })
  assert.deepEqual(own({ warmAfterS: 2 }), { warm_after_s: 2, cold_after_s: 600 })
  assert.deepEqual(own({}), { warm_after_s: 30, cold_after_s: 600 })
  const ms = { ...https, lifecycle: { warmAfterMs: 1500, coldAfterMs: 60_000 } }
  assert.deepEqual(toWire(sprite, org, 'cold', ms).lifecycle, {
    warm_after_s: 1.5,
    cold_after_s: 60,
  })
})

test('omits private_access when unset', () => {
  const w = toWire({ ...sprite, urlSettings: { auth: 'sprite' } }, org, 'cold', https)
  assert.deepEqual(w.url_settings, { auth: 'sprite' })
})

test('sprite URLs: http with a port, default ports omitted', () => {
  const local = {
    baseDomain: 'sprites.localhost',
    spriteURL: { scheme: 'http' as const, port: 7470 },
  }
  assert.equal(spriteURL('a', org, local), 'http://a-ab1c2.sprites.localhost:7470')
  const port80 = { baseDomain: 'x.test', spriteURL: { scheme: 'http' as const, port: 80 } }
  assert.equal(spriteURL('a', org, port80), 'http://a-ab1c2.x.test')
})
