// The `sprite` CLI in a real terminal (tmux): console, resize, detach with Ctrl+\, re-attach, --tty.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  hasTmux,
  removeTmuxSocket,
  runCLI,
  startTmux,
  type TmuxTerm,
  tempDir,
  waitFor,
} from './cli-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const skip = !isRoot ? 'needs root to run sprites' : !hasTmux() ? 'needs tmux' : false

describe('sprite CLI in a terminal', { skip }, () => {
  let srv: Spritesd
  const name = uniqueName('term')
  const terms: TmuxTerm[] = []
  let sessionID = ''

  const term = (args: string[], cols = 120, rows = 40, env: Record<string, string> = {}) => {
    const t = startTmux(uniqueName('sprites-cli-e2e'), args, {
      env: { ...srv.cliEnv, ...env },
      cols,
      rows,
    })
    terms.push(t)
    return t
  }
  /** Waits until the screen (with scrollback) matches `re`; returns the screen. */
  const screenMatches = (t: TmuxTerm, re: RegExp, what: string) =>
    waitFor(what, () => {
      const s = t.capture()
      return re.test(s) ? s : undefined
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- screen of ${t.name} ---\n${t.capture()}`)
    })
  const exited = (t: TmuxTerm) =>
    waitFor(`${t.name} to exit`, () => t.exitStatus() !== null)
      .then(() => t.exitStatus())
      .catch((err: Error) => {
        throw new Error(`${err.message}: ${t.describe()}\n${t.capture()}`)
      })

  before(async () => {
    srv = await startSpritesd()
    const r = await runCLI(['create', name, '--skip-console'], { env: srv.cliEnv })
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    for (const t of terms) t.kill()
    removeTmuxSocket()
    await runCLI(['destroy', name, '--force'], { env: srv.cliEnv }).catch(() => null)
    await srv?.stop()
  })

  test('console: a shell on a pty of the terminal size, following resizes; Ctrl+\\ detaches', async () => {
    const t = term(['console', '-s', name])
    t.typeLine('echo $((6*7)); tty; stty size')
    const screen = await screenMatches(t, /^40 120$/m, 'the first command to run')
    assert.match(screen, /^42$/m)
    assert.match(screen, /^\/dev\/pts\/\d+$/m)
    t.resize(100, 30)
    t.typeLine('stty size')
    await screenMatches(t, /^30 100$/m, 'stty size to follow the resize (SIGWINCH)')
    t.typeLine('echo marker-$((1+2)) > /tmp/marker')
    t.sendKeys('C-\\')
    assert.equal(await exited(t), 0, t.capture())
    const after = t.capture()
    const m = after.match(/Detached from session (\d+)/)
    assert.ok(m, after)
    sessionID = m[1] ?? ''
    const ls = await runCLI(['sessions', 'list', '-s', name], { env: srv.cliEnv })
    assert.match(ls.stdout, new RegExp(`^${sessionID}\\tyes\\t`, 'm'), 'still running')
  })

  test('sessions attach shows the earlier output and a working shell; exit ends it', async (t) => {
    if (!sessionID) {
      t.skip('the console test did not detach')
      return
    }
    const a = term(['sessions', 'attach', sessionID, '-s', name])
    await screenMatches(a, /^42$/m, 'the earlier output after re-attaching')
    a.typeLine('cat /tmp/marker; echo again-$((40+2))')
    await screenMatches(a, /^again-42$/m, 'a new command to run')
    assert.match(a.capture(), /^marker-3$/m, 'input typed before detaching ran')
    a.typeLine('exit')
    assert.equal(await exited(a), 0, a.capture())
    const ls = await runCLI(['sessions', 'list', '-s', name], { env: srv.cliEnv })
    assert.ok(!new RegExp(`^${sessionID}\\t`, 'm').test(ls.stdout), ls.stdout)
  })

  test('attach <command> finds the detached session by what it runs', async () => {
    const x = term(['exec', '--tty', '-s', name, '--', 'bash', '--norc'])
    x.typeLine('echo first-$((2*21))')
    await screenMatches(x, /^first-42$/m, 'the command in the new session')
    x.sendKeys('C-\\')
    assert.equal(await exited(x), 0, x.capture())
    const a = term(['attach', 'bash', '-s', name])
    await screenMatches(a, /^first-42$/m, 'the earlier output after attaching by command')
    a.typeLine('exit')
    assert.equal(await exited(a), 0, a.capture())
    const none = await runCLI(['attach', 'no-such-program', '-s', name], { env: srv.cliEnv })
    assert.equal(none.code, 2)
    assert.match(none.stderr, /no running session runs "no-such-program"/)
  })

  test('exec --tty runs on a pty and passes the exit code through', async () => {
    const x = term(['exec', '--tty', '-s', name, '--', 'bash'], 90, 25)
    x.typeLine('tty; stty size; echo TERM=$TERM')
    const screen = await screenMatches(x, /^25 90$/m, 'tty and stty size')
    assert.match(screen, /^\/dev\/pts\/\d+$/m)
    assert.match(screen, /^TERM=xterm-256color$/m)
    x.typeLine('exit 3')
    assert.equal(await exited(x), 3, x.capture())
  })
  test("console sends SHELL and the terminal's terminfo entry; sprite-browser opens URLs here", async (t) => {
    const dir = tempDir('sprites-console-env-')
    t.after(() => dir.remove())
    // A terminal type the sprite has never heard of, compiled here.
    const src = join(dir.path, 'e2e.ti')
    writeFileSync(src, 'sprites-e2e-term|terminal only this test knows,\n\tuse=xterm-256color,\n')
    const tic = spawnSync('tic', ['-x', '-o', join(dir.path, 'terminfo'), src], {
      encoding: 'utf8',
    })
    assert.equal(tic.status, 0, tic.stderr)
    const entry = readFileSync(join(dir.path, 'terminfo', 's', 'sprites-e2e-term'))
    const md5 = createHash('md5').update(entry).digest('hex')
    // The local "browser" records what it was asked to open.
    const opened = join(dir.path, 'opened')
    const browser = join(dir.path, 'browser.sh')
    writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$1" >> ${opened}\n`, { mode: 0o755 })

    const c = term(['console', '-s', name], 120, 40, {
      TERM: 'sprites-e2e-term',
      TERMINFO: join(dir.path, 'terminfo'),
      SHELL: '/opt/elsewhere/bin/bash',
      BROWSER: browser,
    })
    c.typeLine(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'md5sum < ~/.terminfo/s/sprites-e2e-term; echo "shell=$SHELL:$0:$TERM"; tput cols; echo "init=${PATH%%:*}:$BROWSER"',
    )
    const screen = await screenMatches(c, /^shell=.*$/m, 'the console environment')
    assert.match(screen, new RegExp(`^${md5}  -$`, 'm'), 'the entry arrived byte for byte')
    // Not installed at the client's path here: the same shell by name, as a login shell.
    assert.match(screen, /^shell=\/(usr\/)?bin\/bash:-bash:sprites-e2e-term$/m)
    assert.match(screen, /^120$/m, 'tput knows the terminal type')
    // The login shell ran the sprite's init (/.sprite/etc/profile.d through /etc/profile.d).
    await screenMatches(
      c,
      /^init=\/\.sprite\/bin:\/\.sprite\/bin\/sprite-browser$/m,
      'the shell init',
    )

    c.typeLine("xdg-open 'https://example.test/from-sprite?a=1&b=2'; echo opened-rc=$?")
    await screenMatches(c, /^opened-rc=0$/m, 'xdg-open to return')
    const url = await waitFor('the local browser to be started', () =>
      existsSync(opened) ? readFileSync(opened, 'utf8') : undefined,
    )
    assert.equal(url, 'https://example.test/from-sprite?a=1&b=2\n')
    assert.doesNotMatch(c.capture(), /9999|browser-open/, 'the sequence never reaches the screen')
    c.typeLine('sprite-browser file:///etc/passwd; echo refused-rc=$?')
    await screenMatches(c, /^refused-rc=2$/m, 'a non-web URL to be refused inside')
    // Re-attached, the request is in the replayed scrollback: shown, not opened a second time.
    c.sendKeys('C-\\')
    assert.equal(await exited(c), 0, c.capture())
    const id = /Detached from session (\d+)/.exec(c.capture())?.[1]
    assert.ok(id, c.capture())
    const again = term(['sessions', 'attach', id, '-s', name], 120, 40, { BROWSER: browser })
    await screenMatches(
      again,
      /asked earlier to open "https:\/\/example\.test\/from-sprite\?a=1&b=2"; not opened again/,
      'the replayed request',
    )
    again.typeLine('exit')
    assert.equal(await exited(again), 0, again.capture())
    assert.equal(readFileSync(opened, 'utf8'), url, 'nothing else was opened')

    // Without a terminal there is nobody to open it for: a clear error, no escape bytes.
    const plain = await runCLI(
      ['exec', '-s', name, '--', 'sprite-browser', 'https://example.test/'],
      {
        env: { ...srv.cliEnv, BROWSER: browser },
      },
    )
    assert.equal(plain.code, 1)
    assert.match(
      plain.stderr,
      /no terminal is attached to open it; visit https:\/\/example\.test\//,
    )
    assert.equal(plain.stdout, '')
  })
})
