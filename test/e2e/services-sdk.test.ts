// Conformance: services through the real, unmodified @fly/sprites package (sprites-api.md §7, §15).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sdkSprite } from './harness.ts'

const isRoot = process.getuid?.() === 0

interface LogEvent {
  type: string
  data?: string
  exitCode?: number
  timestamp: number
  logFiles?: Record<string, string>
}

async function collect(stream: { processAll(h: (e: LogEvent) => void): Promise<void> }) {
  const events: LogEvent[] = []
  await stream.processAll((e) => {
    events.push(e)
  })
  return events
}

describe('@fly/sprites services conformance', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  const f = sdkSprite('svcsdk')

  test('create, get, list, logs, signal, stop, start, restart, delete', async () => {
    const created = await collect(
      await f.sprite.createService(
        'echoer',
        {
          cmd: 'sh',
          args: ['-c', 'trap "echo got-hup" HUP; echo ready; while :; do sleep 0.1; done'],
          env: { A: '1' },
          httpPort: 8123,
        },
        '1s',
      ),
    )
    assert.equal(created[0]?.type, 'started')
    assert.ok(created.some((e) => e.type === 'stdout' && e.data === 'ready'))
    assert.equal(created.at(-1)?.type, 'complete')
    assert.equal(created.at(-1)?.logFiles?.combined, '/.sprite/logs/services/echoer.log')

    const svc = await f.sprite.getService('echoer')
    assert.equal(svc.httpPort, 8123)
    assert.equal(svc.state.status, 'running')
    assert.deepEqual(svc.env, { A: '1' })
    const list = await f.sprite.listServices()
    assert.deepEqual(
      list.map((s: { name: string }) => s.name),
      ['echoer'],
    )
    await assert.rejects(f.sprite.getService('missing'), /Service not found/)
    await assert.rejects(
      f.sprite.createService('other', { cmd: 'true', httpPort: 9000 }),
      /Service conflict/,
    )

    await f.sprite.signalService('echoer', 'HUP')
    const logs = await collect(await f.sprite.getServiceLogs('echoer', { duration: '1s' }))
    assert.ok(
      logs.some((e) => e.type === 'stdout' && e.data === 'got-hup'),
      JSON.stringify(logs),
    )
    const tail = await collect(await f.sprite.getServiceLogs('echoer', { lines: 1 }))
    assert.equal(tail.length, 2)

    const stopped = await collect(await f.sprite.stopService('echoer', '2s'))
    assert.deepEqual(
      stopped.map((e) => e.type),
      ['stopping', 'stopped', 'complete'],
    )
    assert.equal((await f.sprite.getService('echoer')).state.status, 'stopped')
    const started = await collect(await f.sprite.startService('echoer', '500ms'))
    assert.equal(started[0]?.type, 'started')
    const pid = (await f.sprite.getService('echoer')).state.pid
    const restarted = await collect(await f.sprite.restartService('echoer', '500ms'))
    const types = restarted.map((e) => e.type)
    assert.ok(types.indexOf('stopping') < types.indexOf('started'), types.join(','))
    assert.notEqual((await f.sprite.getService('echoer')).state.pid, pid)

    await f.sprite.deleteService('echoer')
    await assert.rejects(f.sprite.getService('echoer'), /Service not found/)
  })
})
