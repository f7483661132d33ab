// The rest of the `sprite` CLI (§13.1) against a live spritesd: list --watch, exec --file, file
// push/pull/edit, api, url update, org logout and completion.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { isOneLineError, runCLI, SPRITE_BIN, tempDir, waitFor } from './cli-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('more sprite CLI commands against a live server', {
  skip: isRoot ? false : 'needs root to run sprites',
}, () => {
  let srv: Spritesd
  const work = tempDir('sprites-cli-more-')
  const name = uniqueName('clim')
  const children: ChildProcess[] = []
  let created = false

  const sprite = (args: string[], o: { env?: Record<string, string>; input?: string } = {}) =>
    runCLI(args, { env: { ...srv.cliEnv, ...o.env }, cwd: work.path, input: o.input })
  /** Runs a command in the sprite through the CLI and returns its stdout. */
  const remote = async (cmd: string) => {
    const r = await sprite(['exec', '-s', name, '--', 'sh', '-c', cmd])
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }

  before(async () => {
    srv = await startSpritesd()
    const r = await sprite(['create', name, '--skip-console'])
    assert.equal(r.code, 0, r.stderr)
    created = true
  })
  after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL')
    }
    if (created) await sprite(['destroy', name, '--force']).catch(() => null)
    await srv?.stop()
    work.remove()
  })

  test('list --watch prints the sprite, then its status change; Ctrl+C ends it with 0', async () => {
    // Its own process group, so SIGINT reaches the launcher and the CLI as Ctrl+C would.
    const child = spawn(process.execPath, [SPRITE_BIN, 'list', '--watch', '--prefix', name], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...srv.cliEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    children.push(child)
    let out = ''
    let err = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    )
    await waitFor('the sprite in the watch', () => out.includes(`${name}\tcold\n`))
    await remote('true')
    await waitFor('the status change', () => out.includes(`${name}\trunning\n`))
    process.kill(-(child.pid as number), 'SIGINT')
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('list --watch ignored SIGINT')), 10_000).unref(),
    )
    assert.deepEqual(await Promise.race([exited, timeout]), [0, null])
    assert.equal(err, '')
    assert.equal(out.split('\n')[0], `${name}\tcold`, 'one line per sprite first')
    assert.ok(!out.includes('heartbeat'), out)
  })

  test('exec --file writes the files first (same bytes, same mode), then runs', async () => {
    const blob = randomBytes(1024 * 1024)
    writeFileSync(join(work.path, 'rand.bin'), blob)
    writeFileSync(join(work.path, 'run.sh'), '#!/bin/sh\necho ran "$@"\n')
    chmodSync(join(work.path, 'run.sh'), 0o750)
    const r = await sprite([
      'exec',
      '-s',
      name,
      '--file',
      'rand.bin:/tmp/in/rand.bin',
      '--file',
      `${join(work.path, 'run.sh')}:bin/run.sh`,
      '--',
      'sh',
      '-c',
      'sha256sum /tmp/in/rand.bin; stat -c %a /home/sprite/bin/run.sh; /home/sprite/bin/run.sh x',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${sha256(blob)}  /tmp/in/rand.bin\n750\nran x\n`)
  })

  test('exec --file with a missing local file fails before anything runs', async () => {
    const r = await sprite([
      'exec',
      '-s',
      name,
      '--file',
      'rand.bin:/tmp/never/rand.bin',
      '--file',
      'missing.txt:/tmp/never/missing.txt',
      '--',
      'touch',
      '/tmp/ran',
    ])
    assert.equal(r.code, 1)
    assert.ok(isOneLineError(r.stderr), r.stderr)
    assert.match(r.stderr, /missing\.txt: no such file/)
    assert.equal(await remote('test -e /tmp/ran || test -e /tmp/never || echo none'), 'none\n')
  })

  test('file push and pull round-trip binary data; push keeps the mode', async () => {
    const blob = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      randomBytes(1 << 20),
    ])
    writeFileSync(join(work.path, 'blob.bin'), blob)
    chmodSync(join(work.path, 'blob.bin'), 0o640)
    const push = await sprite(['file', 'push', '-s', name, 'blob.bin', 'deep/dir/blob.bin'])
    assert.equal(push.code, 0, push.stderr)
    assert.match(
      push.stdout,
      new RegExp(`${blob.length} bytes to ${name}:/home/sprite/deep/dir/blob.bin`),
    )
    assert.equal(await remote('stat -c %a deep/dir/blob.bin'), '640\n')
    const pull = await sprite(['file', 'pull', '-s', name, 'deep/dir/blob.bin', 'back.bin'])
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(readFileSync(join(work.path, 'back.bin')).equals(blob), 'identical bytes')
    const missing = await sprite(['file', 'pull', '-s', name, '/no/such/file', 'x.bin'])
    assert.equal(missing.code, 1)
    assert.ok(isOneLineError(missing.stderr), missing.stderr)
    assert.match(missing.stderr, new RegExp(`${name}:/no/such/file: no such file or directory`))
    assert.equal(existsSync(join(work.path, 'x.bin')), false)
    const fromStdin = await sprite(['file', 'push', '-s', name, '-', 'stdin.txt'], {
      input: 'from stdin\n',
    })
    assert.equal(fromStdin.code, 0, fromStdin.stderr)
    const toStdout = await sprite(['file', 'pull', '-s', name, 'stdin.txt', '-'])
    assert.deepEqual([toStdout.code, toStdout.stdout], [0, 'from stdin\n'])
    const noLocal = await sprite(['file', 'push', '-s', name, 'nope.bin', '/tmp/nope.bin'])
    assert.equal(noLocal.code, 1)
    assert.match(noLocal.stderr, /^error: cannot read nope\.bin: no such file or directory\n$/)
  })

  test('file edit runs $EDITOR on a copy and pushes it back only when it changed', async () => {
    const editor = join(work.path, 'append.sh')
    writeFileSync(editor, '#!/bin/sh\necho "added line" >> "$1"\n')
    chmodSync(editor, 0o755)
    await remote('printf "first\\n" > notes.sh && chmod 755 notes.sh')
    const r = await sprite(['file', 'edit', '-s', name, 'notes.sh'], { env: { EDITOR: editor } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await remote('cat notes.sh; stat -c %a notes.sh'), 'first\nadded line\n755\n')
    const fresh = await sprite(['file', 'edit', '-s', name, 'new/notes.txt'], {
      env: { VISUAL: editor, EDITOR: 'false' },
    })
    assert.equal(fresh.code, 0, fresh.stderr)
    assert.equal(await remote('cat new/notes.txt'), 'added line\n')
    const same = await sprite(['file', 'edit', '-s', name, 'notes.sh'], { env: { EDITOR: 'true' } })
    assert.equal(same.code, 0, same.stderr)
    assert.match(same.stderr, /No changes/)
    const failed = await sprite(['file', 'edit', '-s', name, 'notes.sh'], {
      env: { EDITOR: 'false' },
    })
    assert.equal(failed.code, 1)
    assert.ok(isOneLineError(failed.stderr), failed.stderr)
  })

  test('api calls routes with curl and the token, without printing it', async () => {
    const one = await sprite(['api', '-s', name, '/', '--', '-sS'])
    assert.equal(one.code, 0, one.stderr)
    assert.equal(JSON.parse(one.stdout).name, name)
    const org = await sprite(['api', '/organization', '--', '-sS', '-v'])
    assert.equal(org.code, 0, org.stderr)
    assert.equal(typeof JSON.parse(org.stdout).organization.slug, 'string')
    assert.match(org.stderr, /Authorization: Bearer <redacted>/)
    assert.ok(!org.stderr.includes(srv.token) && !org.stdout.includes(srv.token))
    const abs = await sprite(['api', `/v1/sprites/${name}/fs/list?path=/tmp`, '--', '-sS', '-f'])
    assert.equal(abs.code, 0, abs.stderr)
    assert.ok(JSON.parse(abs.stdout).entries.some((e: { name: string }) => e.name === 'in'))
    const missing = await sprite(['api', '/sprites/no-such-sprite-x', '--', '-sS', '-f'])
    assert.equal(missing.code, 22, 'curl -f exits 22 on a 404')
  })

  test('url update --auth public is config update; the sprite then shows auth public', async () => {
    const r = await sprite(['url', 'update', name, '--auth', 'public'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /URL auth public/)
    const get = await sprite(['api', '-s', name, '/', '--', '-sS'])
    assert.equal(JSON.parse(get.stdout).url_settings.auth, 'public')
  })

  test('org logout --force removes the entry; without it and a terminal it refuses', async () => {
    const home = tempDir('sprites-cli-more-home-')
    try {
      const env = { HOME: home.path }
      const run = (args: string[]) => runCLI(args, { env })
      const setup = await run(['auth', 'setup', '--token', srv.token, '--url', srv.baseURL])
      assert.equal(setup.code, 0, setup.stderr)
      const slug = srv.token.split('/')[0] as string
      const orgs = () =>
        JSON.parse(readFileSync(join(home.path, '.sprites', 'sprites.json'), 'utf8')).urls[
          srv.baseURL
        ]?.orgs ?? {}
      assert.ok(orgs()[slug])
      const refused = await run(['org', 'logout'])
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /--force/)
      assert.ok(orgs()[slug])
      const out = await run(['org', 'logout', '--force'])
      assert.equal(out.code, 0, out.stderr)
      assert.equal(orgs()[slug], undefined)
      const ls = await run(['list'])
      assert.equal(ls.code, 1)
      assert.match(ls.stderr, /auth setup/)
    } finally {
      home.remove()
    }
  })

  test('completion bash lists the commands', async () => {
    const r = await sprite(['completion', 'bash'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /checkpoint/)
    assert.match(r.stdout, /complete -o default -F _sprite sprite/)
  })
})
