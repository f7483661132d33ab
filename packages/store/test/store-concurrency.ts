import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { newSprite, type StoreTarget, withStore } from './store-contract.ts'

/** 1, 2, …, n. */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** Concurrent calls on one store: what a pool of connections must get right. */
export function storeConcurrency(name: string, target: StoreTarget): void {
  describe(`${name}: concurrency`, () => concurrencyTests(target))
}

function concurrencyTests(target: StoreTarget): void {
  test('20 concurrent inserts get 20 distinct slots, the lowest ones', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('many')
      const made = await Promise.all(
        upTo(20).map((i) => s.insertSprite(newSprite(org.id, `s${i}`))),
      )
      assert.deepEqual(
        made.map((m) => m.slot).sort((a, b) => a - b),
        upTo(20),
      )
      const stored = await s.listAllSprites()
      assert.deepEqual(
        stored.map((x) => [x.id, x.slot, x.uidBase]).sort(),
        made.map((x) => [x.id, x.slot, x.uidBase]).sort(),
      )
    }))

  test('concurrent inserts of one name: one wins, the others get sprite_already_exists', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('race')
      const results = await Promise.allSettled(
        upTo(8).map(() => s.insertSprite(newSprite(org.id, 'same'))),
      )
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
      for (const r of results) {
        if (r.status === 'rejected') assert.equal(r.reason.code, 'sprite_already_exists')
      }
      assert.equal((await s.listSprites(org.id, { limit: 10 })).length, 1)
    }))

  test('20 concurrent checkpoint creations get distinct ids; auto ones count on their own', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('ck')
      const sp = await s.insertSprite(newSprite(org.id, 'a'))
      const create = async (kind: 'v' | 'auto') => {
        const id = await s.allocateCheckpointID(sp.id, kind)
        const base = { comment: '', sourceID: null, history: [] }
        return s.insertCheckpoint({ ...base, spriteID: sp.id, id, isAuto: kind === 'auto' })
      }
      const made = await Promise.all([
        ...upTo(20).map(() => create('v')),
        ...upTo(5).map(() => create('auto')),
      ])
      const ids = made.map((c) => c.id)
      assert.equal(new Set(ids).size, 25)
      assert.deepEqual(
        ids.filter((id) => id.startsWith('v')).sort(),
        upTo(20)
          .map((i) => `v${i - 1}`)
          .sort(),
      )
      assert.deepEqual(
        ids.filter((id) => id.startsWith('auto-')).sort(),
        upTo(5).map((i) => `auto-${i}`),
      )
      assert.equal((await s.listCheckpoints(sp.id)).length, 25)
      assert.equal(await s.allocateCheckpointID(sp.id, 'v'), 'v20')
    }))

  test('concurrent per-kind policy updates all apply', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('pol')
      const sp = await s.insertSprite(newSprite(org.id, 'p'))
      const network = { rules: [{ domain: 'a.b', action: 'allow' as const }] }
      const privileges = { noNewPrivileges: true }
      const resources = { memory: { limit_mb: 64, autoscale: false } }
      await Promise.all([
        s.updateSprite(sp.id, { policies: { network } }),
        s.updateSprite(sp.id, { policies: { privileges } }),
        s.updateSprite(sp.id, { policies: { resources } }),
        s.updateSprite(sp.id, { labels: ['l'] }),
      ])
      const got = await s.getSpriteByID(sp.id)
      assert.deepEqual(got?.policies, { network, privileges, resources })
      assert.deepEqual(got?.labels, ['l'])
    }))
}
