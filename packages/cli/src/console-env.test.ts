import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { consoleEnv, MAX_TERMINFO_BYTES, terminfoDirs, terminfoEntry } from './console-env.ts'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-terminfo-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('console environment', () => {
  test('search order: $TERMINFO, ~/.terminfo, $TERMINFO_DIRS (empty = system), system', () => {
    const dirs = terminfoDirs({ TERMINFO: '/t', TERMINFO_DIRS: '/a::/b' }, '/home/u')
    assert.deepEqual(dirs.slice(0, 4), ['/t', '/home/u/.terminfo', '/a', '/etc/terminfo'])
    assert.ok(dirs.indexOf('/b') > dirs.indexOf('/usr/share/terminfo'))
    assert.equal(new Set(dirs).size, dirs.length)
  })

  test('finds Linux and macOS layouts; skips odd names and oversized entries', (t) => {
    const home = tempDir(t)
    mkdirSync(join(home, '.terminfo', 'f'), { recursive: true })
    writeFileSync(join(home, '.terminfo', 'f', 'foo-term'), 'linux-entry')
    const mac = tempDir(t)
    mkdirSync(join(mac, '62'))
    writeFileSync(join(mac, '62', 'bar+x'), 'mac-entry')
    writeFileSync(join(mac, '62', 'big'), Buffer.alloc(MAX_TERMINFO_BYTES + 1))
    assert.equal(terminfoEntry('foo-term', {}, home)?.toString(), 'linux-entry')
    assert.equal(terminfoEntry('bar+x', { TERMINFO: mac }, home)?.toString(), 'mac-entry')
    assert.equal(terminfoEntry('big', { TERMINFO: mac }, home), undefined)
    assert.equal(terminfoEntry('nope-such-term', {}, home), undefined)
    for (const odd of ['../f/foo-term', '.x', 'a/b', '']) {
      assert.equal(terminfoEntry(odd, {}, home), undefined, odd)
    }
  })

  test('adds SHELL and SPRITE_TERMINFO_DATA to the terminal env', (t) => {
    const home = tempDir(t)
    mkdirSync(join(home, '.terminfo', 'x'), { recursive: true })
    writeFileSync(join(home, '.terminfo', 'x', 'xfoo'), Buffer.from([1, 2, 3, 255]))
    const env = consoleEnv(
      { TERM: 'xfoo', LANG: 'C.UTF-8' },
      { TERM: 'xfoo', SHELL: '/usr/local/bin/zsh' },
      home,
    )
    assert.deepEqual(env, {
      TERM: 'xfoo',
      LANG: 'C.UTF-8',
      SHELL: '/usr/local/bin/zsh',
      SPRITE_TERMINFO_DATA: Buffer.from([1, 2, 3, 255]).toString('base64'),
    })
    // A SHELL that is not a plain absolute path, or no entry, adds nothing.
    assert.deepEqual(consoleEnv({}, { TERM: 'zz-none', SHELL: 'zsh; rm -rf /' }, home), {})
  })
})
