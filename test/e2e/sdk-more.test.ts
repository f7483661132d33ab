// Conformance, the rest of the @fly/sprites surface (sprites-api.md §15) against a live spritesd:
// watchSprites, upgradeSprite, restartSprite, proxyPorts, controlMode falling back after the
// /control 404, and listCheckpoints with a history filter.
import assert from 'node:assert/strict'
import { createConnection } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { loadFlySDK, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0

/** Connects to localhost:port, writes `line`, resolves with the first data sent back. */
function echoThrough(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: 'localhost', port }, () => s.write(line))
    s.once('data', (d) => {
      resolve(d.toString())
      s.destroy()
    })
    s.once('error', reject)
    s.once('close', () => reject(new Error('closed without an answer')))
    s.setTimeout(10_000, () => s.destroy(new Error('no echo within 10 s')))
  })
}

describe('@fly/sprites: watch, upgrade, restart, proxyPorts, control fallback, history', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  // biome-ignore lint/suspicious/noExplicitAny: the official SDK ships untyped JS here
  let client: any
  const name = uniqueName('sdkmore')

  before(async () => {
    srv = await startSpritesd()
    client = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL })
    await client.createSprite(name)
  })
  after(async () => {
    await client?.deleteSprite(name).catch(() => undefined)
    await srv?.stop()
  })

  test('watchSprites lists the sprite, then reports its status changes', async () => {
    const stream = await client.watchSprites({ prefix: name })
    const first = await stream.next()
    assert.equal(first.name, name)
    assert.equal(first.status, 'cold')
    assert.equal(first.organization.name, 'personal')
    assert.ok(first.timestamp instanceof Date)
    await client.sprite(name).execFile('true')
    for (;;) {
      const e = await stream.next()
      if (e?.type === 'heartbeat') continue
      assert.equal(e.name, name)
      if (e.status === 'running') break
    }
  })

  test('upgradeSprite resolves; restartSprite answers with the machine id once running', async () => {
    await client.upgradeSprite(name)
    const r = await client.restartSprite(name)
    assert.equal(r.spriteName, name)
    assert.match(r.machineId, /^sp-[0-9a-f]{16}$/)
    assert.equal((await client.getSprite(name)).status, 'running')
  })

  test('proxyPorts forwards two local ports to two servers inside', async () => {
    const s = client.sprite(name)
    const serve = (port: number, tag: string) =>
      s.createSession('python3', [
        '-c',
        `import socket\nl=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', ${port})); l.listen()\nwhile True:\n c,_=l.accept(); c.sendall(b'${tag}:'+c.recv(100)); c.close()`,
      ])
    const servers = [serve(7101, 'one'), serve(7102, 'two')]
    try {
      const sessions = await s.proxyPorts([
        { localPort: 0, remotePort: 7101 },
        { localPort: 0, remotePort: 7102 },
      ])
      try {
        // localAddr() is "localhost:<port>"; port 0 picked a free one.
        const ports = sessions.map((p: { localAddr(): string }) =>
          Number(p.localAddr().split(':')[1]),
        )
        // The servers may still be starting: a refused relay just ends, so retry for a while.
        const echo = async (port: number, line: string) => {
          const deadline = Date.now() + 15_000
          for (;;) {
            const got = await echoThrough(port, line).catch(() => null)
            if (got || Date.now() > deadline) return got
            await new Promise((r) => setTimeout(r, 200))
          }
        }
        assert.equal(await echo(ports[0], 'a'), 'one:a')
        assert.equal(await echo(ports[1], 'b'), 'two:b')
      } finally {
        for (const p of sessions) p.close()
      }
    } finally {
      for (const cmd of servers) cmd.kill?.()
    }
  })

  test('controlMode: true falls back to a direct exec after the /control 404', async () => {
    const cc = new sdk.SpritesClient(srv.token, { baseURL: srv.baseURL, controlMode: true })
    const r = await cc.sprite(name).execFile('sh', ['-c', 'echo via-fallback'])
    assert.equal(r.stdout, 'via-fallback\n')
  })

  test('listCheckpoints(history) keeps the checkpoint and its descendants', async () => {
    const s = client.sprite(name)
    for (const comment of ['one', 'two']) {
      const stream = await s.createCheckpoint(comment)
      await stream.processAll(() => {})
    }
    const all = await s.listCheckpoints()
    const ids = all.map((c: { id: string }) => c.id)
    assert.ok(ids.includes('v1') && ids.includes('v2'), ids.join(','))
    const fromV2 = await s.listCheckpoints('v2')
    assert.deepEqual(
      fromV2.map((c: { id: string }) => c.id).sort(),
      ['v2'],
      'nothing descends from v2 yet',
    )
    const fromV1 = (await s.listCheckpoints('v1')).map((c: { id: string }) => c.id).sort()
    assert.deepEqual(fromV1, ['v1', 'v2'])
  })
})
