// The `sprite` CLI in a real terminal (tmux): console, resize, detach with Ctrl+\, re-attach, --tty.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  hasTmux,
  removeTmuxSocket,
  runCLI,
  startTmux,
  type TmuxTerm,
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

  const term = (args: string[], cols = 120, rows = 40) => {
    const t = startTmux(uniqueName('sprites-cli-e2e'), args, { env: srv.cliEnv, cols, rows })
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

  test('exec --tty runs on a pty and passes the exit code through', async () => {
    const x = term(['exec', '--tty', '-s', name, '--', 'bash'], 90, 25)
    x.typeLine('tty; stty size; echo TERM=$TERM')
    const screen = await screenMatches(x, /^25 90$/m, 'tty and stty size')
    assert.match(screen, /^\/dev\/pts\/\d+$/m)
    assert.match(screen, /^TERM=xterm-256color$/m)
    x.typeLine('exit 3')
    assert.equal(await exited(x), 3, x.capture())
  })
})
