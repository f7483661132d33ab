// The `sprite` CLI as a user runs it, against a live spritesd with real sprites (§13).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { isOneLineError, runCLI, SPRITE_BIN, tempDir, waitFor } from './cli-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

describe('sprite CLI against a live server', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  /** HOME of a user who logged in with `auth setup`: no SPRITE_TOKEN, no SPRITES_API_URL. */
  const home = tempDir('sprites-cli-home-')
  /** A project directory for `sprite use`. */
  const project = tempDir('sprites-cli-project-')
  const name = uniqueName('cli')
  const userEnv = { HOME: home.path }
  const children: ChildProcess[] = []
  let created = false

  const sprite = (args: string[], o: { cwd?: string; input?: string } = {}) =>
    runCLI(args, { env: userEnv, ...o })

  before(async () => {
    srv = await startSpritesd()
  })
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    if (created) await runCLI(['destroy', name, '--force'], { env: srv.cliEnv }).catch(() => null)
    await srv?.stop()
    home.remove()
    project.remove()
  })

  test('auth setup stores the token; list works without SPRITE_TOKEN', async () => {
    const r = await sprite(['auth', 'setup', '--token', srv.token, '--url', srv.baseURL])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Logged in/)
    const cfg = JSON.parse(readFileSync(join(home.path, '.sprites', 'sprites.json'), 'utf8'))
    assert.equal(cfg.current_selection.url, srv.baseURL)
    const ls = await sprite(['list'])
    assert.equal(ls.code, 0, ls.stderr)
    assert.equal(ls.stderr, '')
  })

  test('create --skip-console, then list and info show it', async () => {
    const r = await sprite(['create', name, '--skip-console'])
    assert.equal(r.code, 0, r.stderr)
    created = true
    assert.match(r.stdout, new RegExp(`Created sprite ${name}`))
    const ls = await sprite(['list'])
    assert.equal(ls.code, 0, ls.stderr)
    assert.ok(ls.stdout.split('\n').includes(name), ls.stdout)
    const info = await sprite(['info', name])
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, new RegExp(`^Name:\\s+${name}$`, 'm'))
    assert.match(info.stdout, /^ID:\s+sprite-[0-9a-f-]{36}$/m)
    const infoS = await sprite(['info', '-s', name])
    assert.equal(infoS.code, 0, infoS.stderr)
    assert.match(infoS.stdout, new RegExp(`^Name:\\s+${name}$`, 'm'))
  })

  test('use writes .sprite; later commands in that directory need no -s', async () => {
    const r = await sprite(['use', name], { cwd: project.path })
    assert.equal(r.code, 0, r.stderr)
    const file = JSON.parse(readFileSync(join(project.path, '.sprite'), 'utf8'))
    assert.equal(file.sprite, name)
    const info = await sprite(['info'], { cwd: project.path })
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, new RegExp(`^Name:\\s+${name}$`, 'm'))
    const x = await sprite(['exec', '--', 'hostname'], { cwd: project.path })
    assert.equal(x.code, 0, x.stderr)
  })

  test('exec prints both streams and passes the exit code through', async () => {
    const r = await sprite(['exec', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], {
      cwd: project.path,
    })
    assert.equal(r.stdout, 'out\n')
    assert.equal(r.stderr, 'err\n')
    assert.equal(r.code, 3)
  })

  test('exec --dir, --env and piped stdin', async () => {
    const cwd = project.path
    const pwd = await sprite(['exec', '--dir', '/tmp', '--', 'pwd'], { cwd })
    assert.equal(pwd.code, 0, pwd.stderr)
    assert.equal(pwd.stdout, '/tmp\n')
    const env = await sprite(['exec', '--env', 'A=1,B=2', '--', 'sh', '-c', 'echo $A$B'], { cwd })
    assert.equal(env.code, 0, env.stderr)
    assert.equal(env.stdout, '12\n')
    const cat = await sprite(['exec', '--', 'cat'], { cwd, input: 'hello\n' })
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout, 'hello\n')
    const wc = await sprite(['x', '-s', name, '--', 'wc', '-c'], { input: 'x'.repeat(200_000) })
    assert.equal(wc.code, 0, wc.stderr)
    assert.equal(wc.stdout.trim(), '200000')
  })

  test('exec --http-post', async () => {
    const cwd = project.path
    const r = await sprite(['exec', '--http-post', '--', 'echo', 'hi'], { cwd })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'hi\n')
    const e = await sprite(['exec', '--http-post', '--', 'sh', '-c', 'cat; echo e >&2; exit 5'], {
      cwd,
      input: 'piped',
    })
    assert.equal(e.stdout, 'piped')
    assert.equal(e.stderr, 'e\n')
    assert.equal(e.code, 5)
  })

  test('exec of a missing program exits 127 with one line', async () => {
    const r = await sprite(['exec', '-s', name, '--', 'no-such-program-x'])
    assert.equal(r.code, 127)
    assert.match(r.stderr, /no-such-program-x/)
  })

  test('sessions list shows a detached TTY session; sessions kill ends it', async () => {
    const env = { ...process.env, ...userEnv }
    const child = spawn(
      process.execPath,
      [SPRITE_BIN, 'exec', '-s', name, '--tty', '--', 'sleep', '654'],
      {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    const row = await waitFor('the session in `sessions list`', async () => {
      const r = await sprite(['sessions', 'list', '-s', name])
      return r.stdout.split('\n').find((l) => l.includes('sleep 654'))
    })
    const id = row.split('\t')[0] ?? ''
    assert.match(id, /^\d+$/, row)
    // Killing the CLI (by its pid) disconnects the client; a TTY session keeps running.
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([
      exited,
      new Promise((_, rej) => setTimeout(() => rej(new Error('CLI ignored SIGTERM')), 10_000)),
    ])
    const detached = await waitFor('the session to show as inactive', async () => {
      const r = await sprite(['sessions', 'list', '-s', name])
      const l = r.stdout.split('\n').find((x) => x.startsWith(`${id}\t`))
      return l?.split('\t')[2] === 'no' ? l : undefined
    })
    assert.match(detached, /\tyes\t/, 'a TTY session')
    const kill = await sprite(['sessions', 'kill', id, '-s', name])
    assert.equal(kill.code, 0, kill.stderr)
    assert.match(kill.stdout, /SIGTERM/)
    const ls = await sprite(['sessions', 'list', '-s', name])
    assert.equal(ls.code, 0, ls.stderr)
    assert.ok(!ls.stdout.includes('sleep 654'), ls.stdout)
    const again = await sprite(['sessions', 'kill', id, '-s', name])
    assert.notEqual(again.code, 0)
    assert.ok(isOneLineError(again.stderr), again.stderr)
  })

  test('destroy needs --force without a terminal, then works; info then fails', async () => {
    const r = await sprite(['destroy', name])
    assert.equal(r.code, 1)
    assert.ok(isOneLineError(r.stderr), r.stderr)
    assert.match(r.stderr, /--force/)
    assert.equal((await sprite(['info', name])).code, 0, 'still there')
    const d = await sprite(['destroy', name, '--force'])
    assert.equal(d.code, 0, d.stderr)
    created = false
    const info = await sprite(['info', name])
    assert.equal(info.code, 1)
    assert.ok(isOneLineError(info.stderr), info.stderr)
    assert.match(info.stderr, new RegExp(name))
    assert.equal(info.stdout, '')
    const ls = await sprite(['list'])
    assert.ok(!ls.stdout.split('\n').includes(name))
  })

  test('unknown sprite, bad token and a stopped server each give one clear line', async () => {
    const ghost = uniqueName('ghost')
    for (const args of [
      ['info', ghost],
      ['exec', '-s', ghost, '--', 'true'],
      ['sessions', 'list', '-s', ghost],
    ]) {
      const r = await sprite(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.ok(isOneLineError(r.stderr), r.stderr)
      assert.match(r.stderr, /not found/i)
    }
    const badEnv = { HOME: home.path, SPRITE_TOKEN: 'personal/abcde/nope/nope' }
    const bad = await runCLI(['list'], { env: badEnv })
    assert.equal(bad.code, 1)
    assert.ok(isOneLineError(bad.stderr), bad.stderr)
    assert.match(bad.stderr, /token.*sprite auth setup/i, 'names the problem and the fix')
    const badExec = await runCLI(['exec', '-s', 'whatever', '--', 'true'], { env: badEnv })
    assert.equal(badExec.code, 1)
    assert.ok(isOneLineError(badExec.stderr), badExec.stderr)
    assert.match(badExec.stderr, /token/i)
    await srv.stop()
    const down = await sprite(['list'])
    assert.equal(down.code, 1)
    assert.ok(isOneLineError(down.stderr), down.stderr)
    assert.match(down.stderr, /cannot reach/)
    const downExec = await sprite(['exec', '-s', 'whatever', '--', 'true'])
    assert.equal(downExec.code, 1)
    assert.ok(isOneLineError(downExec.stderr), downExec.stderr)
  })

  test('no token at all says how to log in', async () => {
    const empty = tempDir('sprites-cli-empty-')
    try {
      const r = await runCLI(['list'], { env: { HOME: empty.path } })
      assert.equal(r.code, 1)
      assert.ok(isOneLineError(r.stderr), r.stderr)
      assert.match(r.stderr, /auth setup/)
      assert.equal(existsSync(join(empty.path, '.sprites')), false)
    } finally {
      empty.remove()
    }
  })
})
