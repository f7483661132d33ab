import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { ListeningPort, PortWatcher } from '@sprites/runtime'
import { PortHub, type WatchFn } from './port-hub.ts'
import { followSessionPorts, inSessionTree } from './session-ports.ts'

interface FakeWatcher extends PortWatcher {
  sandboxPid: number
  stopped: boolean
  open(p: ListeningPort): void
  shut(p: ListeningPort): void
}

function fakeWatch() {
  const made: FakeWatcher[] = []
  const watch: WatchFn = ({ sandboxPid }) => {
    const w = new EventEmitter() as FakeWatcher
    const known = new Map<number, ListeningPort>()
    w.sandboxPid = sandboxPid
    w.stopped = false
    w.current = () => [...known.values()]
    w.ready = () => Promise.resolve()
    w.stop = () => {
      w.stopped = true
    }
    w.open = (p) => {
      known.set(p.port, p)
      w.emit('port_opened', p)
    }
    w.shut = (p) => {
      known.delete(p.port)
      w.emit('port_closed', p)
    }
    made.push(w)
    return w
  }
  return { watch, made }
}

const P = (port: number, hostPid = 500): ListeningPort => ({
  port,
  address: '127.0.0.1',
  pid: 7,
  hostPid,
})

function recorder() {
  const log: string[] = []
  return {
    log,
    opened: (p: ListeningPort) => log.push(`+${p.port}`),
    closed: (p: ListeningPort) => log.push(`-${p.port}`),
  }
}

test('polls only while a sprite has a sandbox and a listener', () => {
  const host = new EventEmitter()
  const { watch, made } = fakeWatch()
  const hub = new PortHub({ host, watch })
  host.emit('booted', { id: 's1' }, { pid: 42 })
  assert.equal(made.length, 0, 'nobody listens yet')
  const a = recorder()
  const sub = hub.subscribe('s1', a)
  assert.equal(made.length, 1)
  assert.equal(made[0]?.sandboxPid, 42)
  made[0]?.open(P(8080))
  assert.deepEqual(hub.current('s1'), [P(8080)])
  sub.unsubscribe()
  sub.unsubscribe()
  assert.equal(made[0]?.stopped, true)
  assert.deepEqual(a.log, ['+8080'])
})

test('a cold sprite has no ports; a boot starts polling; a stop closes every port', () => {
  const host = new EventEmitter()
  const { watch, made } = fakeWatch()
  const hub = new PortHub({ host, watch })
  const a = recorder()
  hub.subscribe('s1', a)
  assert.deepEqual(hub.current('s1'), [])
  assert.equal(made.length, 0)
  host.emit('booted', { id: 's1' }, { pid: 9 })
  made[0]?.open(P(3000))
  host.emit('stopped', 's1')
  assert.equal(made[0]?.stopped, true)
  assert.deepEqual(a.log, ['+3000', '-3000'])
  host.emit('booted', { id: 's1' }, { pid: 10 })
  assert.equal(made[1]?.sandboxPid, 10)
})

/** A fake /proc: pid → [NSpid, NSsid, PPid]. */
function fakeProc(entries: Record<number, [string, string, number]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-proc-'))
  for (const [pid, [nspid, nssid, ppid]] of Object.entries(entries)) {
    mkdirSync(join(dir, pid))
    writeFileSync(
      join(dir, pid, 'status'),
      `Name:\tx\nPPid:\t${ppid}\nNSpid:\t${nspid}\nNSsid:\t${nssid}\n`,
    )
  }
  return dir
}

test('inSessionTree: same session, a descendant in its own session, strangers', async () => {
  const proc = fakeProc({
    100: ['100 1', '100 1', 1], // the sprite's init
    200: ['200 17', '200 17', 100], // session leader, in-sprite pid 17
    201: ['201 18', '200 17', 200], // child in the session
    202: ['202 19', '202 19', 201], // grandchild that called setsid
    300: ['300 30', '300 30', 100], // another session
    400: ['400', '400', 1], // a host process
  })
  try {
    assert.equal(await inSessionTree(201, 17, proc), true)
    assert.equal(await inSessionTree(202, 17, proc), true)
    assert.equal(await inSessionTree(200, 17, proc), true)
    assert.equal(await inSessionTree(300, 17, proc), false)
    assert.equal(await inSessionTree(400, 400, proc), false)
    assert.equal(await inSessionTree(999, 17, proc), false)
  } finally {
    rmSync(proc, { recursive: true, force: true })
  }
})

test('followSessionPorts sends only owned ports, closed only after opened', async () => {
  const host = new EventEmitter()
  const { watch, made } = fakeWatch()
  const hub = new PortHub({ host, watch })
  host.emit('booted', { id: 's1' }, { pid: 1 })
  const sent: string[] = []
  const stop = followSessionPorts(
    hub,
    's1',
    17,
    (m) => sent.push(`${m.type} ${m.port} ${m.address} ${m.pid}`),
    async (hostPid, leader) => hostPid === 500 && leader === 17,
  )
  made[0]?.open(P(8080, 500))
  made[0]?.open(P(9090, 600))
  made[0]?.shut(P(9090, 600))
  made[0]?.shut(P(8080, 500))
  await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(sent, ['port_opened 8080 127.0.0.1 7', 'port_closed 8080 127.0.0.1 7'])
  stop()
  assert.equal(made[0]?.stopped, true)
})
