// Lifecycle logic without sprites: idle timings with an injected clock, memory pressure,
// wake on hold, which requests count as activity, tasks, kill points and the freezer files.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { SpriteStatus } from '@sprites/protocol'
import { createFreezer } from '@sprites/runtime'
import type { SpriteRecord } from '@sprites/store'
import { killPointHook } from '../src/host/kill-point.ts'
import { ActivityTracker } from '../src/lifecycle/activity.ts'
import { LifecycleManager, type LifecycleSettings } from '../src/lifecycle/lifecycle-manager.ts'
import { activeSpriteName } from '../src/lifecycle/request-activity.ts'
import { TaskService } from '../src/tasks/task-service.ts'

const NOLOG = { debug() {}, info() {}, warn() {}, error() {} }

class FakeHost extends EventEmitter {
  phases = new Map<string, SpriteStatus>()
  log: string[] = []
  status(s: { id: string }): SpriteStatus {
    return this.phases.get(s.id) ?? 'cold'
  }
  liveSpriteIDs(): string[] {
    return [...this.phases.keys()]
  }
  async freeze(s: SpriteRecord): Promise<boolean> {
    this.log.push(`freeze ${s.id}`)
    this.phases.set(s.id, 'warm')
    this.emit('warm', s.id)
    return true
  }
  async stop(s: SpriteRecord): Promise<void> {
    this.log.push(`stop ${s.id}`)
    this.phases.delete(s.id)
    this.emit('stopped', s.id, 'sprite hibernated')
  }
  async ensureRunning(s: SpriteRecord): Promise<void> {
    this.log.push(`wake ${s.id}`)
    this.phases.set(s.id, 'running')
    this.emit('thawed', s.id)
  }
  boot(id: string): void {
    this.phases.set(id, 'running')
    this.emit('booted', { id })
  }
}

function setup(settings: Partial<LifecycleSettings> = {}, memMB = () => 1e9) {
  let now = 1_000_000
  const clock = { now: () => now, advance: (ms: number) => (now += ms) }
  const host = new FakeHost()
  const activity = new ActivityTracker(clock.now)
  const sprites = new Map<string, SpriteRecord>()
  const store = {
    getSpriteByID: async (id: string) => sprites.get(id) ?? null,
    updateSprite: async (id: string, patch: Partial<SpriteRecord>) => {
      const s = sprites.get(id) as SpriteRecord
      Object.assign(s, patch)
      return s
    },
  }
  const add = (id: string) =>
    sprites.set(id, { id, name: id, lastActiveAt: null } as unknown as SpriteRecord)
  const manager = new LifecycleManager({
    host,
    store,
    activity,
    settings: {
      warmAfterMs: 1000,
      coldAfterMs: 5000,
      minMemAvailableMB: 0,
      tickMs: 100,
      ...settings,
    },
    log: NOLOG,
    now: clock.now,
    memAvailableMB: async () => memMB(),
  })
  return { clock, host, activity, manager, add, sprites }
}

describe('lifecycle manager', () => {
  test('running → warm after the idle time, → cold after the warm time', async () => {
    const { clock, host, manager, add } = setup()
    add('a')
    host.boot('a')
    clock.advance(999)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'running')
    clock.advance(1)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'warm')
    clock.advance(4999)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'warm')
    clock.advance(1)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'cold')
    assert.deepEqual(host.log, ['freeze a', 'stop a'])
  })

  test('a hold keeps the sprite running; a touch resets the idle clock', async () => {
    const { clock, host, activity, manager, add } = setup()
    add('a')
    host.boot('a')
    const release = activity.hold('a')
    clock.advance(10_000)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'running', 'held')
    release()
    clock.advance(600)
    activity.touch('a')
    clock.advance(600)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'running', 'touched 600 ms ago')
    clock.advance(400)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'warm')
  })

  test('a hold on a warm sprite wakes it; thaw restarts the idle clock', async () => {
    const { clock, host, activity, manager, add } = setup()
    add('a')
    host.boot('a')
    clock.advance(1000)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'warm')
    const release = activity.hold('a')
    await new Promise((r) => setImmediate(r))
    assert.equal(host.status({ id: 'a' }), 'running')
    release()
    clock.advance(999)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'running')
  })

  test('memory pressure sends warm sprites cold, oldest-idle first, until enough is free', async () => {
    let free = 100
    const { clock, host, activity, manager, add } = setup({ minMemAvailableMB: 500 }, () => free)
    for (const id of ['a', 'b', 'c']) add(id)
    host.boot('b')
    clock.advance(10)
    host.boot('a')
    clock.advance(10)
    host.boot('c')
    activity.touch('c')
    clock.advance(2000)
    host.on('stopped', () => {
      free += 300
    })
    await manager.sweep()
    assert.deepEqual(host.log.slice(0, 3), ['freeze b', 'freeze a', 'freeze c'])
    await manager.sweep()
    assert.deepEqual(host.log.slice(3), ['stop b', 'stop a'])
    assert.equal(host.status({ id: 'c' }), 'warm')
  })

  test('last_active_at is saved while running', async () => {
    const { clock, host, manager, add, sprites, activity } = setup({ warmAfterMs: 60_000 })
    add('a')
    host.boot('a')
    clock.advance(5000)
    activity.touch('a')
    await manager.sweep()
    assert.equal(sprites.get('a')?.lastActiveAt?.getTime(), clock.now())
  })

  test('per-sprite timings override the server settings', async () => {
    const { clock, host, add } = setup()
    const activity = new ActivityTracker(clock.now)
    const store = {
      getSpriteByID: async (id: string) => ({ id, lastActiveAt: null }) as unknown as SpriteRecord,
      updateSprite: async () => ({}) as SpriteRecord,
    }
    const manager = new LifecycleManager({
      host,
      store,
      activity,
      settings: { warmAfterMs: 1000, coldAfterMs: 5000, minMemAvailableMB: 0, tickMs: 100 },
      log: NOLOG,
      now: clock.now,
      timingsOf: () => ({ warmAfterMs: 50_000 }),
    })
    add('a')
    host.boot('a')
    clock.advance(10_000)
    await manager.sweep()
    assert.equal(host.status({ id: 'a' }), 'running')
  })
})

describe('which requests count as activity', () => {
  const cases: [string, string, string | null][] = [
    ['GET', '/v1/sprites/a', null],
    ['GET', '/v1/sprites', null],
    ['GET', '/v1/sprites/a/check', null],
    ['HEAD', '/v1/sprites/a/exec', null],
    ['GET', '/v1/sprites/a/exec', null],
    ['GET', '/v1/sprites/a/control', null],
    ['POST', '/v1/sprites/a/policy/network', null],
    ['GET', '/v1/sprites/a/checkpoints', null],
    ['POST', '/v1/sprites/a/checkpoint', null],
    ['POST', '/v1/sprites/a/exec', 'a'],
    ['POST', '/v1/sprites/a/exec/3/kill', 'a'],
    ['GET', '/v1/sprites/a/fs/read', 'a'],
    ['PUT', '/v1/sprites/a/services/web', 'a'],
    ['POST', '/v1/sprites/a/checkpoints/v1/restore', 'a'],
  ]
  for (const [method, path, want] of cases) {
    test(`${method} ${path} → ${want}`, () => assert.equal(activeSpriteName(method, path), want))
  }
})

describe('tasks', () => {
  const make = () => {
    const activity = new ActivityTracker()
    return { activity, tasks: new TaskService({ activity }) }
  }

  test('create, get, list, refresh, delete; a live task holds the sprite', () => {
    const { activity, tasks } = make()
    const t = tasks.create('s', 'build', '5m')
    assert.equal(t.name, 'build')
    assert.equal(Date.parse(t.expires_at) - Date.parse(t.started_at), 300_000)
    assert.equal(activity.holds('s'), 1)
    tasks.create('s', 'test', 60)
    assert.equal(activity.holds('s'), 1, 'one hold for all tasks of a sprite')
    assert.deepEqual(
      tasks.list('s').map((x) => x.name),
      ['build', 'test'],
    )
    const refreshed = tasks.refresh('s', 'build', '1h')
    assert.equal(refreshed.started_at, t.started_at)
    assert.equal(tasks.get('s', 'build').expires_at, refreshed.expires_at)
    tasks.delete('s', 'build')
    tasks.delete('s', 'test')
    assert.equal(activity.holds('s'), 0)
    assert.deepEqual(tasks.list('s'), [])
  })

  test('errors: 409 on a taken name, 400 beyond 1 h or without expire, 404 unknown', () => {
    const { tasks } = make()
    tasks.create('s', 'a', '1m')
    assert.throws(() => tasks.create('s', 'a', '1m'), { code: 'task_already_exists' })
    assert.throws(() => tasks.create('s', 'b', '61m'), { code: 'invalid_argument' })
    assert.throws(() => tasks.create('s', 'b', undefined), { code: 'invalid_argument' })
    assert.throws(() => tasks.create('s', '../x', '1m'), { code: 'invalid_argument' })
    assert.throws(() => tasks.get('s', 'zz'), { code: 'task_not_found' })
    assert.throws(() => tasks.delete('s', 'zz'), { code: 'task_not_found' })
    tasks.clear('s')
  })

  test('an expired task vanishes and releases the sprite', async () => {
    const { activity, tasks } = make()
    tasks.create('s', 'short', '0.03')
    assert.equal(activity.holds('s'), 1)
    await new Promise((r) => setTimeout(r, 80))
    assert.deepEqual(tasks.list('s'), [])
    assert.equal(activity.holds('s'), 0)
  })
})

describe('kill points and the freezer', () => {
  test('the kill hook fires only at the configured point', () => {
    const hits: string[] = []
    const hook = killPointHook('wake:after-attach', () => hits.push('killed'))
    hook?.('create:after-disk')
    hook?.('wake:after-attach')
    assert.deepEqual(hits, ['killed'])
    assert.equal(killPointHook(null), undefined)
  })

  test('v1 and v2 freezer files; a missing cgroup is a no-op', async () => {
    const root = mkdtempSync(join(tmpdir(), 'freezer-'))
    try {
      mkdirSync(join(root, 'freezer', 'sprites', 'sp-1'), { recursive: true })
      const state = join(root, 'freezer', 'sprites', 'sp-1', 'freezer.state')
      writeFileSync(state, 'THAWED')
      const v1 = createFreezer('hybrid', '/sprites/sp-1', { root })
      await v1.freeze()
      assert.equal(readFileSync(state, 'utf8'), 'FROZEN')
      await v1.thaw()
      assert.equal(readFileSync(state, 'utf8'), 'THAWED')
      mkdirSync(join(root, 'sprites', 'sp-2'), { recursive: true })
      writeFileSync(join(root, 'sprites', 'sp-2', 'cgroup.freeze'), '0')
      writeFileSync(join(root, 'sprites', 'sp-2', 'cgroup.events'), 'populated 1\nfrozen 1\n')
      const v2 = createFreezer('v2', '/sprites/sp-2', { root })
      await v2.freeze()
      assert.equal(readFileSync(join(root, 'sprites', 'sp-2', 'cgroup.freeze'), 'utf8'), '1')
      await createFreezer('v1', '/sprites/gone', { root }).freeze()
      await createFreezer('v2', '/sprites/gone', { root }).thaw()
      writeFileSync(join(root, 'sprites', 'sp-2', 'cgroup.events'), 'frozen 0\n')
      await assert.rejects(
        createFreezer('v2', '/sprites/sp-2', { root, timeoutMs: 30 }).freeze(),
        /did not freeze/,
      )
      assert.equal(readFileSync(join(root, 'sprites', 'sp-2', 'cgroup.freeze'), 'utf8'), '0')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
