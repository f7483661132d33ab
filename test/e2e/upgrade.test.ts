// M7 upgrade (sprites-api.md §2, row "M7 upgrade") against a live spritesd: a sprite whose disk came
// from an older base image keeps its files until it is upgraded; the next cold boot then rewrites
// the image-managed files (llm.txt, version.txt, profile script) and nothing of the sprite's own.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { api, createSprite, deleteAll, openInstanceStore, sh } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const OLD = 'bookworm-000000000000'

describe('M7 upgrade', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  const names = new Set<string>()

  before(async () => {
    srv = await startSpritesd()
  })
  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  const info = async (name: string) =>
    (await api(srv, 'GET', `/v1/sprites/${name}`)).json as { id: string; version: string }
  /** M8: stop and boot again (a cold boot). */
  const restart = async (name: string) => {
    const r = await api(srv, 'POST', `/v1/sprites/${name}/restart`, { timeoutMs: 60_000 })
    assert.equal(r.status, 200, r.text)
  }
  const systemFiles = (name: string) =>
    sh(
      srv,
      name,
      'cat /.sprite/version.txt; md5sum < /.sprite/llm.txt; stat -c "%U %a" /.sprite/llm.txt; cat /etc/profile.d/sprite.sh 2>&1 | head -1',
    )

  test('an older disk keeps its files until upgraded; the next cold boot brings only them up to date', {
    timeout: 180_000,
  }, async () => {
    const sprite = await createSprite(srv, uniqueName('upgrade'))
    names.add(sprite.name)
    const installed = (await info(sprite.name)).version
    assert.match(installed, /^bookworm-[0-9a-f]{12}$/)
    const current = await systemFiles(sprite.name)
    assert.ok(current.startsWith(`${installed}\n`), current)

    // As if created from an older image: its disk and its record say OLD.
    await sh(
      srv,
      sprite.name,
      `echo keep > ~/mine.txt && sudo sh -c 'echo ${OLD} > /.sprite/version.txt; echo old guide > /.sprite/llm.txt; rm /etc/profile.d/sprite.sh; echo own > /opt/own.txt'`,
    )
    const store = openInstanceStore()
    try {
      await store.updateSprite(sprite.id, { version: OLD })
    } finally {
      await store.close()
    }
    const old = await systemFiles(sprite.name)
    assert.ok(old.startsWith(`${OLD}\n`), old)

    await restart(sprite.name)
    assert.equal(await systemFiles(sprite.name), old, 'not upgraded: a cold boot changes nothing')
    assert.equal((await info(sprite.name)).version, OLD)

    const up = await api(srv, 'POST', `/v1/sprites/${sprite.name}/upgrade`, { body: {} })
    assert.equal(up.status, 200, up.text)
    assert.deepEqual(up.json, { name: sprite.name, status: 'upgraded' })
    assert.equal((await info(sprite.name)).version, installed)
    assert.equal(await systemFiles(sprite.name), old, 'the running sprite is left alone')

    await restart(sprite.name)
    assert.equal(await systemFiles(sprite.name), current, 'the image-managed files are current')
    assert.equal(
      await sh(srv, sprite.name, 'cat ~/mine.txt /opt/own.txt'),
      'keep\nown\n',
      'everything else is the sprite’s own and stays',
    )
    await restart(sprite.name)
    assert.equal(await systemFiles(sprite.name), current)
  })
})
