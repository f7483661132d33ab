// An agent inside a sprite checkpoints, restores and runs services for itself through
// /.sprite/api.sock with sprite-env (sprites-api.md §12.3, §12.4).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sdkSprite } from './harness.ts'

const isRoot = process.getuid?.() === 0

describe('sprite-env inside a sprite', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  const f = sdkSprite('inside')

  async function sh(script: string): Promise<string> {
    const r = await f.sprite.execFile('bash', ['-c', script])
    return r.stdout
  }

  test('services: create, list, stop, delete from inside', async () => {
    const created = await sh('sprite-env services create tick --cmd sleep --args 300 --duration 1s')
    assert.match(created, /"type":"started"/)
    const list = JSON.parse(await sh('sprite-env services list'))
    const tick = list.find((s: { name: string }) => s.name === 'tick')
    assert.equal(tick.state.status, 'running')
    const viaAPI = await f.sprite.getService('tick')
    assert.equal(viaAPI.state.pid, tick.state.pid, 'the same supervisor answers both sides')
    assert.match(await sh('sprite-env services stop tick'), /"type":"complete"/)
    await sh('sprite-env services delete tick')
    assert.deepEqual(JSON.parse(await sh('sprite-env services list')), [])
  })

  test('checkpoints: create and list from inside, restore ends the caller and brings files back', async () => {
    await sh('echo before > ~/state.txt && sync')
    const out = await sh('sprite-env checkpoints create --comment from-inside')
    const id = /Checkpoint (v\d+) created/.exec(out)?.[1]
    assert.ok(id, out)
    const list = JSON.parse(await sh('sprite-env checkpoints list'))
    assert.equal(list.find((c: { id: string }) => c.id === id)?.comment, 'from-inside')
    await sh('echo after > ~/state.txt && sync')
    // By number, as a person types it: the stream names the checkpoint as §6 does (vN).
    const restore = await sh(`sprite-env checkpoints restore ${id.slice(1)}`)
    assert.match(restore, new RegExp(`Restoring checkpoint ${id}\\.\\.\\.`))
    assert.match(restore, /Environment restarting/)
    const deadline = Date.now() + 20_000
    let content = ''
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      content = await sh('cat ~/state.txt').catch(() => '')
      if (content === 'before\n') break
    }
    assert.equal(content, 'before\n')
  })
})
