// Conformance: the real, unmodified @fly/sprites package against a live spritesd with real sprites.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { loadFlySDK, sdkSprite } from './harness.ts'

const sdk = await loadFlySDK()
const isRoot = process.getuid?.() === 0

describe('@fly/sprites exec conformance', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  const f = sdkSprite('exec')

  test('execFile separates stdout and stderr', async () => {
    const r = await f.sprite.execFile('sh', ['-c', 'echo out; echo err >&2'])
    assert.equal(r.stdout, 'out\n')
    assert.equal(r.stderr, 'err\n')
    assert.equal(r.exitCode, 0)
  })

  test('exec splits on whitespace and runs as the sprite user in its home', async () => {
    const r = await f.sprite.exec('id -un')
    assert.equal(r.stdout.trim(), 'sprite')
    const pwd = await f.sprite.execFile('pwd')
    assert.equal(pwd.stdout.trim(), '/home/sprite')
  })

  test('a non-zero exit rejects with ExecError carrying the exact code', async () => {
    await assert.rejects(
      f.sprite.execFile('sh', ['-c', 'exit 42']),
      (err: { exitCode: number }) => {
        assert.equal(err.exitCode, 42)
        return true
      },
    )
  })

  test('a process killed by SIGTERM exits with 143', async () => {
    const cmd = f.sprite.spawn('sleep', ['30'])
    await new Promise((resolve) => cmd.once('spawn', resolve))
    await new Promise((r) => setTimeout(r, 200))
    cmd.kill('SIGTERM')
    assert.equal(await cmd.wait(), 143)
  })

  test('stdin streams through spawn (1 MiB in, byte count right)', async () => {
    const cmd = f.sprite.spawn('wc', ['-c'])
    let out = ''
    cmd.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await new Promise((resolve) => cmd.once('spawn', resolve))
    const chunk = Buffer.alloc(64 * 1024, 'x')
    for (let i = 0; i < 16; i++) cmd.stdin.write(chunk)
    cmd.stdin.end()
    assert.equal(await cmd.wait(), 0)
    assert.equal(out.trim(), String(1024 * 1024))
  })

  test('5 MB of random bytes come out intact', async () => {
    const r = await f.sprite.execFile(
      'sh',
      ['-c', 'head -c 5000000 /dev/urandom | tee /tmp/rand.bin'],
      { encoding: 'buffer', maxBuffer: 20 * 1024 * 1024 },
    )
    assert.equal(r.stdout.length, 5_000_000)
    const local = createHash('sha256').update(r.stdout).digest('hex')
    const remote = await f.sprite.execFile('sha256sum', ['/tmp/rand.bin'])
    assert.equal(remote.stdout.split(' ')[0], local)
  })

  test('env is merged over the defaults and cwd is honoured', async () => {
    const r = await f.sprite.execFile('sh', ['-c', 'echo "$FOO|$HOME|$PATH"; pwd'], {
      env: { FOO: 'bar' },
      cwd: '/tmp',
    })
    const [vars, pwd] = r.stdout.trim().split('\n')
    const [foo, home, path] = vars.split('|')
    assert.equal(foo, 'bar')
    assert.equal(home, '/home/sprite')
    assert.match(path, /^\/\.sprite\/bin:/)
    assert.equal(pwd, '/tmp')
  })

  test('TTY: tty names a pty, stty size honours rows/cols, resize applies', async () => {
    const cmd = f.sprite.spawn('bash', [], { tty: true, rows: 33, cols: 101 })
    let screen = ''
    cmd.stdout.on('data', (d: Buffer) => {
      screen += d.toString()
    })
    await new Promise((resolve) => cmd.once('spawn', resolve))
    cmd.stdin.write('tty; stty size\n')
    await waitFor(() => /\/dev\/pts\/\d+/.test(screen) && screen.includes('33 101'))
    cmd.resize(120, 40)
    cmd.stdin.write('stty size; exit 3\n')
    await waitFor(() => screen.includes('40 120'))
    assert.equal(await cmd.wait(), 1, 'JS derives a TTY failure from the close code')
  })

  test('a signal reaches the process group', async () => {
    const cmd = f.sprite.spawn('sh', ['-c', 'trap "echo got-usr1; exit 7" USR1; sleep 20 & wait'])
    let out = ''
    cmd.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await new Promise((resolve) => cmd.once('spawn', resolve))
    await new Promise((r) => setTimeout(r, 300))
    cmd.signal('SIGUSR1')
    assert.equal(await cmd.wait(), 7)
    assert.match(out, /got-usr1/)
  })

  test('sessions: create, list, attach with scrollback, kill', async () => {
    const cmd = f.sprite.createSession('bash', ['-c', 'echo scroll-marker; sleep 60'])
    await new Promise((resolve) => cmd.once('spawn', resolve))
    await new Promise((r) => setTimeout(r, 500))
    const sessions = await f.sprite.listSessions()
    const mine = sessions.find((s: { command: string }) => s.command.includes('sleep 60'))
    assert.ok(mine, `session listed: ${JSON.stringify(sessions)}`)
    assert.equal(mine.tty, true)
    assert.ok(mine.created instanceof Date && !Number.isNaN(mine.created.getTime()))
    cmd.wsCmd.close()
    const attached = f.sprite.attachSession(String(mine.id))
    let replay = ''
    attached.stdout.on('data', (d: Buffer) => {
      replay += d.toString()
    })
    await new Promise((resolve) => attached.once('spawn', resolve))
    await waitFor(() => replay.includes('scroll-marker'))
    const stream = await f.sprite.killSession(mine.id, 'SIGTERM', '2s')
    const events = []
    for await (const e of stream) events.push(e)
    assert.equal(events[0].type, 'signal')
    assert.equal(events.at(-1).type, 'complete')
    assert.equal(events.at(-1).exitCode, 143)
    const left = await f.sprite.listSessions()
    assert.ok(!left.some((s: { id: number }) => s.id === mine.id))
  })

  test('execFileHTTP runs a command over plain HTTP with stdin', async () => {
    const r = await f.sprite.execFileHTTP('sh', ['-c', 'cat; echo err >&2; exit 0'], {
      input: 'via-http',
    })
    assert.equal(r.stdout, 'via-http')
    assert.equal(r.stderr, 'err\n')
    await assert.rejects(
      f.sprite.execFileHTTP('sh', ['-c', 'exit 5']),
      (e: { exitCode: number }) => {
        assert.equal(e.exitCode, 5)
        return true
      },
    )
  })

  test('a bad token gives 401 and an unknown sprite 404', async () => {
    const bad = new sdk.SpritesClient('personal/xxxxx/nope/secret', { baseURL: f.srv.baseURL })
    await assert.rejects(
      bad.getSprite(f.sprite.name),
      (e: { statusCode: number }) => e.statusCode === 401,
    )
    const client = new sdk.SpritesClient(f.srv.token, { baseURL: f.srv.baseURL })
    await assert.rejects(
      client.getSprite('no-such-sprite'),
      (e: { statusCode: number }) => e.statusCode === 404,
    )
  })

  test('a command silent for 70 s still completes (keepalive frames)', {
    timeout: 120_000,
  }, async () => {
    const r = await f.sprite.execFile('sh', ['-c', 'sleep 70; echo done'])
    assert.equal(r.stdout, 'done\n')
  })
})

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition')
    await new Promise((r) => setTimeout(r, 50))
  }
}
