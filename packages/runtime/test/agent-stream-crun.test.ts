// Stream channels inside a real container: Sandbox.connect reaches a server listening on the
// container's own loopback, and listListeningPorts sees it with its in-sprite pid.
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { listListeningPorts } from '../src/ports/index.ts'
import type { Sandbox } from '../src/runtime-driver.ts'
import { crunSkipReason, setUpCrun } from './fixtures/crun-setup.ts'
import { execIn, SANDBOX_ENV } from './fixtures/sandbox-exec.ts'

function readAll(stream: Duplex): Promise<string> {
  const parts: Buffer[] = []
  stream.on('data', (b: Buffer) => parts.push(b))
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(parts).toString()))
    stream.on('error', reject)
  })
}

test('connect and listening ports inside a crun sandbox', {
  skip: crunSkipReason(),
}, async (t) => {
  const env = await setUpCrun(t, 'stream')
  const sandbox: Sandbox = await env.driver.start(env.spec('sp-5ea3f0000001'))
  t.after(() => sandbox.stop())

  await t.test('the agent listens on /.sprite/api.sock, mode 0666, before READY', () => {
    const sock = join(env.fx.rootfs, '.sprite/api.sock')
    assert.ok(existsSync(sock))
    assert.equal(statSync(sock).mode & 0o777, 0o666)
  })

  const setup = await execIn(sandbox, [
    'sh',
    '-c',
    'ip link set lo up 2>/dev/null; mkdir -p /tmp/www && echo hello-from-inside > /tmp/www/index.html',
  ])
  assert.equal(setup.code, 0, setup.stderr)
  const httpd = await sandbox.spawn({
    argv: ['httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/tmp/www'],
    env: SANDBOX_ENV,
    cwd: '/',
    uid: 1001,
    gid: 1001,
    stdin: false,
  })
  t.after(() => httpd.signal(9))

  await t.test('listListeningPorts sees the server with its in-sprite pid', async () => {
    let ports = await listListeningPorts(sandbox.pid)
    for (let i = 0; i < 50 && !ports.some((p) => p.port === 8080); i++) {
      await sleep(50)
      ports = await listListeningPorts(sandbox.pid)
    }
    const p = ports.find((x) => x.port === 8080)
    assert.deepEqual(p && { port: p.port, address: p.address, pid: p.pid }, {
      port: 8080,
      address: '127.0.0.1',
      pid: httpd.pid,
    })
    assert.ok(p!.hostPid > 0 && p!.hostPid !== httpd.pid)
  })

  await t.test('Sandbox.connect reaches the container loopback', async () => {
    const stream = await sandbox.connect('127.0.0.1', 8080)
    const reply = readAll(stream)
    stream.write('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n')
    const text = await reply
    assert.match(text, /^HTTP\/1\.[01] 200/)
    assert.match(text, /hello-from-inside/)
    await assert.rejects(sandbox.connect('127.0.0.1', 8081), { syscode: 'ECONNREFUSED' })
  })
})
