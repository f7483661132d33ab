import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { NewSprite, SpritePolicies, Store } from '../src/index.ts'

/** Opens a fresh, empty store; `reopen` (if given) opens the same data again after close. */
export interface StoreTarget {
  open: () => Promise<Store>
  reopen?: () => Promise<Store>
}

export function newSprite(orgID: string, name: string, extra: Partial<NewSprite> = {}): NewSprite {
  return {
    id: `sprite-${crypto.randomUUID()}`,
    orgID,
    name,
    status: 'cold',
    opState: 'ready',
    config: { ramMB: 2048, cpus: 2, region: 'local', storageGB: 10 },
    environment: { A: '1' },
    urlSettings: { auth: 'sprite' },
    labels: ['x'],
    runtime: 'default',
    version: 'v1',
    ...extra,
  }
}

/** Runs `fn` on a freshly opened store and closes it, also when `fn` throws. */
export async function withStore(
  target: StoreTarget,
  fn: (s: Store) => Promise<void>,
): Promise<void> {
  const store = await target.open()
  try {
    await fn(store)
  } finally {
    await store.close()
  }
}

/** The behaviour every Store implementation shares. */
export function storeContract(name: string, target: StoreTarget): void {
  describe(`${name}: orgs and tokens`, () => orgTokenTests(target))
  describe(`${name}: sprites`, () => spriteTests(target))
  describe(`${name}: listing`, () => listTests(target))
  describe(`${name}: checkpoints`, () => checkpointTests(target))
  if (target.reopen) describe(`${name}: persistence`, () => persistenceTests(target))
}

function orgTokenTests(target: StoreTarget): void {
  test('creates orgs with 5-character ids and unique slugs', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('personal')
      assert.match(org.id, /^[a-z0-9]{5}$/)
      assert.deepEqual(await s.getOrgBySlug('personal'), org)
      assert.deepEqual(await s.getOrg(org.id), org)
      assert.equal(await s.getOrg('zzzzz'), null)
      await assert.rejects(s.createOrg('personal'), { code: 'conflict' })
      await assert.rejects(s.createOrg('Bad/Slug'), { code: 'invalid_argument' })
      assert.deepEqual(
        (await s.listOrgs()).map((o) => o.slug),
        ['personal'],
      )
    }))

  test('issues four-part tokens and resolves them by full value', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('acme')
      const { token, record } = await s.createToken(org.id, 'admin')
      const [slug, orgID, tokenID, secret] = token.split('/')
      assert.equal(slug, 'acme')
      assert.equal(orgID, org.id)
      assert.equal(tokenID, record.id)
      assert.ok(Buffer.from(secret!, 'base64url').length >= 32)
      const hit = await s.resolveToken(token)
      assert.equal(hit?.org.id, org.id)
      assert.equal(hit?.token.id, record.id)
      assert.equal(await s.resolveToken(`${token}x`), null)
      assert.equal(await s.resolveToken('acme/abcde/tok/short'), null)
      assert.equal(await s.resolveToken('not-a-token'), null)
      await s.revokeToken(record.id)
      assert.equal(await s.resolveToken(token), null)
    }))

  test('lists an org’s tokens without values; get by id; revoked ones are gone', () =>
    withStore(target, async (s) => {
      const acme = await s.createOrg('acme')
      const other = await s.createOrg('other')
      const a = await s.createToken(acme.id, 'first')
      const b = await s.createToken(acme.id, 'second')
      await s.createToken(other.id, 'theirs')
      const listed = await s.listTokens(acme.id)
      assert.deepEqual(
        listed.map((t) => t.description),
        ['first', 'second'],
      )
      assert.ok(listed.every((t) => t.orgID === acme.id && !JSON.stringify(t).includes('/')))
      assert.deepEqual(await s.getToken(b.record.id), b.record)
      await s.revokeToken(a.record.id)
      assert.equal(await s.getToken(a.record.id), null)
      assert.deepEqual(
        (await s.listTokens(acme.id)).map((t) => t.id),
        [b.record.id],
      )
      assert.deepEqual(await s.listTokens('nope1'), [])
    }))
}

function spriteTests(target: StoreTarget): void {
  test('inserts with the lowest free slot and its uid range', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const a = await s.insertSprite(newSprite(org.id, 'a'))
      const b = await s.insertSprite(newSprite(org.id, 'b'))
      assert.deepEqual([a.slot, b.slot], [1, 2])
      assert.equal(a.uidBase, 1_000_000 + 65536)
      await s.deleteSprite(a.id)
      const c = await s.insertSprite(newSprite(org.id, 'c'))
      assert.equal(c.slot, 1)
      const d = await s.insertSprite(newSprite(org.id, 'd'))
      assert.equal(d.slot, 3)
    }))

  test('round-trips every field', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const input = newSprite(org.id, 'full', {
        urlSettings: { auth: 'public', privateAccess: 'org_users' },
        environment: { K: 'v w', EMPTY: '' },
        labels: ['l1', 'l2'],
      })
      const made = await s.insertSprite(input)
      assert.equal(made.createdAt.getTime(), made.updatedAt.getTime())
      assert.equal(made.lastRunningAt, null)
      const got = await s.getSprite(org.id, 'full')
      assert.deepEqual(got, made)
      assert.deepEqual(await s.getSpriteByID(made.id), made)
      assert.equal(await s.getSprite(org.id, 'nope'), null)
    }))

  test('stores per-sprite lifecycle timings (X3): absent, partial, replaced', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const plain = await s.insertSprite(newSprite(org.id, 'plain'))
      assert.equal('lifecycle' in plain, false)
      assert.deepEqual(await s.getSprite(org.id, 'plain'), plain)
      const own = await s.insertSprite(
        newSprite(org.id, 'own', { lifecycle: { warmAfterS: 1, coldAfterS: 60 } }),
      )
      assert.deepEqual((await s.getSpriteByID(own.id))?.lifecycle, {
        warmAfterS: 1,
        coldAfterS: 60,
      })
      await new Promise((r) => setTimeout(r, 5))
      const changed = await s.updateSprite(own.id, { lifecycle: { coldAfterS: 5 } })
      assert.deepEqual(changed.lifecycle, { coldAfterS: 5 })
      assert.ok(changed.updatedAt.getTime() > own.updatedAt.getTime(), 'a visible change')
      assert.deepEqual(await s.getSprite(org.id, 'own'), changed)
      const cleared = await s.updateSprite(own.id, { lifecycle: {} })
      assert.deepEqual((await s.getSpriteByID(own.id))?.lifecycle, {})
      assert.deepEqual(cleared.lifecycle, {})
      const listed = await s.listSprites(org.id, { limit: 10 })
      assert.deepEqual(
        listed.map((x) => x.lifecycle),
        [{}, undefined],
      )
    }))

  test('stores policies (§8): absent by default, per-kind updates keep the other kinds', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const made = await s.insertSprite(newSprite(org.id, 'p'))
      assert.equal('policies' in made, false)
      assert.equal('policies' in (await s.getSpriteByID(made.id))!, false)
      const network = { rules: [{ domain: '*.example.com', action: 'allow' as const }] }
      const a = await s.updateSprite(made.id, { policies: { network } })
      assert.deepEqual(a.policies, { network })
      assert.equal(a.updatedAt.getTime(), made.updatedAt.getTime(), 'not a SpriteInfo field')
      const privileges = { profile: 'minimal' as const, devices: ['/dev/fuse'] }
      const resources = { memory: { limit_mb: 512, autoscale: false } }
      await s.updateSprite(made.id, { policies: { privileges } })
      const b = await s.updateSprite(made.id, { policies: { resources }, labels: ['y'] })
      assert.deepEqual(b.policies, { network, privileges, resources })
      assert.deepEqual((await s.getSprite(org.id, 'p'))?.policies, {
        network,
        privileges,
        resources,
      })
      const c = await s.updateSprite(made.id, { policies: { network: { rules: [] } } })
      assert.deepEqual(c.policies, { network: { rules: [] }, privileges, resources })
      await s.updateSprite(made.id, { policies: { privileges: null, network: null } })
      assert.deepEqual((await s.getSpriteByID(made.id))?.policies, { resources })
      await s.updateSprite(made.id, { status: 'running' })
      assert.deepEqual((await s.getSpriteByID(made.id))?.policies, { resources })
      await s.updateSprite(made.id, { policies: { resources: null } })
      const none = await s.getSpriteByID(made.id)
      assert.equal('policies' in none!, false, 'no kind left: the field is gone again')
      const listed = await s.listSprites(org.id, { limit: 10 })
      assert.equal('policies' in listed[0]!, false)
    }))

  test('policies given at insert round-trip and are copies', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const policies: SpritePolicies = { network: { rules: [{ include: 'defaults' }] } }
      const made = await s.insertSprite(newSprite(org.id, 'q', { policies }))
      assert.deepEqual(made.policies, policies)
      made.policies!.network!.rules.push({ domain: 'x.y', action: 'deny' })
      assert.deepEqual((await s.getSprite(org.id, 'q'))?.policies, policies)
    }))

  test('rejects a duplicate name in one org, allows it in another', () =>
    withStore(target, async (s) => {
      const o1 = await s.createOrg('o1')
      const o2 = await s.createOrg('o2')
      await s.insertSprite(newSprite(o1.id, 'dup'))
      await assert.rejects(s.insertSprite(newSprite(o1.id, 'dup')), {
        name: 'SpritesError',
        code: 'sprite_already_exists',
      })
      const other = await s.insertSprite(newSprite(o2.id, 'dup'))
      assert.equal(other.orgID, o2.id)
      assert.equal((await s.getSprite(o1.id, 'dup'))?.orgID, o1.id)
    }))

  test('updates fields and bumps updatedAt only for visible changes', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const made = await s.insertSprite(newSprite(org.id, 'u'))
      await new Promise((r) => setTimeout(r, 5))
      const when = new Date('2026-01-02T03:04:05.678Z')
      const a = await s.updateSprite(made.id, { status: 'running', lastRunningAt: when })
      assert.equal(a.status, 'running')
      assert.deepEqual(a.lastRunningAt, when)
      assert.equal(a.updatedAt.getTime(), made.updatedAt.getTime())
      const b = await s.updateSprite(made.id, { labels: [] })
      assert.deepEqual(b.labels, [])
      assert.ok(b.updatedAt.getTime() > made.updatedAt.getTime())
      assert.deepEqual(await s.getSprite(org.id, 'u'), b)
      assert.deepEqual(await s.countSprites(org.id), { cold: 0, warm: 0, running: 1 })
      await assert.rejects(s.updateSprite('sprite-missing', { labels: [] }), {
        code: 'sprite_not_found',
      })
    }))

  test('returned records are copies', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('o1')
      const made = await s.insertSprite(newSprite(org.id, 'c'))
      made.labels.push('mutated')
      made.environment.B = '2'
      const got = await s.getSprite(org.id, 'c')
      assert.deepEqual(got?.labels, ['x'])
      assert.deepEqual(got?.environment, { A: '1' })
    }))
}

function listTests(target: StoreTarget): void {
  test('lists by name with prefix, after and limit, per org', () =>
    withStore(target, async (s) => {
      const o1 = await s.createOrg('o1')
      const o2 = await s.createOrg('o2')
      for (const n of ['b', 'a', 'ab', 'c', 'a-1']) await s.insertSprite(newSprite(o1.id, n))
      await s.insertSprite(newSprite(o2.id, 'aa'))
      const names = async (opts: Parameters<Store['listSprites']>[1]) =>
        (await s.listSprites(o1.id, opts)).map((x) => x.name)
      assert.deepEqual(await names({ limit: 10 }), ['a', 'a-1', 'ab', 'b', 'c'])
      assert.deepEqual(await names({ limit: 2 }), ['a', 'a-1'])
      assert.deepEqual(await names({ limit: 2, after: 'a-1' }), ['ab', 'b'])
      assert.deepEqual(await names({ limit: 10, prefix: 'a' }), ['a', 'a-1', 'ab'])
      assert.deepEqual(await names({ limit: 10, prefix: 'a', after: 'a' }), ['a-1', 'ab'])
      assert.deepEqual(await names({ limit: 10, prefix: '%' }), [])
      assert.equal((await s.listAllSprites()).length, 6)
      assert.deepEqual(await s.countSprites(o2.id), { cold: 1, warm: 0, running: 0 })
    }))
}

function persistenceTests(target: StoreTarget): void {
  test('keeps orgs, tokens and sprites across close and reopen', async () => {
    const first = await target.open()
    const org = await first.createOrg('keep')
    const { token } = await first.createToken(org.id, 'admin')
    const made = await first.insertSprite(newSprite(org.id, 'kept'))
    const policies = {
      network: {
        rules: [{ domain: 'a.b', action: 'deny' as const }, { include: 'defaults' as const }],
      },
      privileges: { noNewPrivileges: true },
      resources: { memory: { limit_mb: 256, autoscale: true } },
    }
    const withPolicies = await first.updateSprite(made.id, { policies })
    await first.close()
    const again = await target.reopen!()
    try {
      assert.equal((await again.resolveToken(token))?.org.id, org.id)
      assert.deepEqual(await again.getSprite(org.id, 'kept'), withPolicies)
      assert.deepEqual(withPolicies.policies, policies)
      const next = await again.insertSprite(newSprite(org.id, 'next'))
      assert.equal(next.slot, 2)
    } finally {
      await again.close()
    }
  })
}

function checkpointTests(target: StoreTarget): void {
  const base = { isAuto: false, comment: '', sourceID: null, history: [] as string[] }
  test('ids count up per kind and are never reused', () =>
    withStore(target, async (s) => {
      const org = await s.createOrg('ck')
      const sp = await s.insertSprite(newSprite(org.id, 'a'))
      assert.deepEqual(await s.getCheckpointState(sp.id), {
        initialized: false,
        currentID: null,
        restoredID: null,
      })
      assert.equal(await s.allocateCheckpointID(sp.id, 'v'), 'v0')
      await s.insertCheckpoint({ ...base, spriteID: sp.id, id: 'v0' })
      assert.equal(await s.allocateCheckpointID(sp.id, 'v'), 'v1')
      const v1 = await s.insertCheckpoint({
        ...base,
        spriteID: sp.id,
        id: 'v1',
        comment: 'hi',
        sourceID: 'v0',
        history: ['v0'],
      })
      assert.equal(v1.comment, 'hi')
      assert.deepEqual(await s.getCheckpoint(sp.id, 'v1'), v1)
      assert.equal(await s.allocateCheckpointID(sp.id, 'auto'), 'auto-1')
      await s.insertCheckpoint({ ...base, spriteID: sp.id, id: 'auto-1', isAuto: true })
      assert.deepEqual(await s.getCheckpointState(sp.id), {
        initialized: true,
        currentID: 'v1',
        restoredID: null,
      })
      await rejectsCode(s.insertCheckpoint({ ...base, spriteID: sp.id, id: 'v1' }), 'conflict')
      assert.deepEqual(
        (await s.listCheckpoints(sp.id)).map((c) => c.id),
        ['auto-1', 'v1', 'v0'],
      )
      await s.deleteCheckpoint(sp.id, 'v1')
      assert.equal(await s.getCheckpoint(sp.id, 'v1'), null)
      assert.equal(await s.allocateCheckpointID(sp.id, 'v'), 'v2')
      await s.setCurrentCheckpoint(sp.id, 'v0')
      assert.equal((await s.getCheckpointState(sp.id)).currentID, 'v0')
      assert.equal((await s.getCheckpointState(sp.id)).restoredID, 'v0')
      await s.deleteSprite(sp.id)
      assert.deepEqual(await s.listCheckpoints(sp.id), [])
      assert.equal((await s.getCheckpointState(sp.id)).initialized, false)
    }))
}

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: { code?: string }) => err.code === code)
}
