// Conformance: checkpoints through the real, unmodified @fly/sprites package and through our CLI.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { runCLI } from './cli-helpers.ts'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0

describe('@fly/sprites checkpoint conformance', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  let sprite: any
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  let client: any
  const forks: string[] = []

  before(async () => {
    srv = await startSpritesd()
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
    sprite = await client.createSprite(uniqueName('cksdk'))
  })
  after(async () => {
    for (const name of forks) await client?.deleteSprite(name).catch(() => undefined)
    await sprite?.delete().catch(() => undefined)
    await srv?.stop()
  })

  test('createCheckpoint, listCheckpoints, getCheckpoint, restoreCheckpoint', async () => {
    await sprite.execFile('sh', ['-c', 'echo precious > ~/file'])
    const stream = await sprite.createCheckpoint('sdk test')
    const messages: Array<{ type: string; data?: string }> = []
    for await (const msg of stream) messages.push(msg)
    assert.equal(messages.at(-1)?.type, 'complete', JSON.stringify(messages))
    assert.match(messages.at(-1)?.data ?? '', /^Checkpoint v1 created successfully$/)
    const list = await sprite.listCheckpoints()
    assert.deepEqual(
      list.map((c: { id: string }) => c.id),
      ['v1', 'v0'],
    )
    const one = await sprite.getCheckpoint('v1')
    assert.equal(one.id, 'v1')
    assert.equal(one.comment, 'sdk test')
    await assert.rejects(sprite.getCheckpoint('v999'))
    await sprite.execFile('sh', ['-c', 'rm ~/file'])
    const restore = await sprite.restoreCheckpoint('v1')
    const events: Array<{ type: string }> = []
    for await (const msg of restore) events.push(msg)
    assert.equal(events.at(-1)?.type, 'complete')
    const r = await sprite.execFile('cat', ['/home/sprite/file'])
    assert.equal(r.stdout, 'precious\n')
  })

  test('the CLI creates, lists, shows, restores, deletes and forks', async () => {
    const name = sprite.name as string
    const run = (...args: string[]) => runCLI(['-s', name, ...args], { env: srv.cliEnv })
    const created = await run('checkpoint', 'create', '--comment', 'from cli')
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /^Checkpoint created: v2$/m)
    assert.match(created.stderr, /Saving filesystem state/)
    const listed = await run('checkpoint', 'list')
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /^v2\t.*from cli$/m)
    const info = await run('checkpoint', 'info', 'v2')
    assert.match(info.stdout, /Comment:\s+from cli/)
    const restored = await run('restore', 'v2')
    assert.equal(restored.code, 0, restored.stderr)
    assert.match(restored.stderr, /Restoring checkpoint v2/)
    assert.match(restored.stdout, /Environment restarting/)
    const auto = await run('checkpoint', 'list', '--include-auto')
    assert.match(auto.stdout, /^auto-\d+ \(auto\)/m)
    const bad = await run('checkpoint', 'delete', 'v2')
    assert.notEqual(bad.code, 0)
    assert.equal((await run('checkpoint', 'delete', 'v1')).code, 0)
    const fork = uniqueName('ckcli')
    forks.push(fork)
    const made = await runCLI(['create', fork, '--from', `${name}:v2`, '--skip-console'], {
      env: srv.cliEnv,
    })
    assert.equal(made.code, 0, made.stderr)
    const cat = await runCLI(['-s', fork, 'exec', '--', 'cat', '/home/sprite/file'], {
      env: srv.cliEnv,
    })
    assert.equal(cat.stdout, 'precious\n')
  })
})
