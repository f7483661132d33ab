import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { BrowserOpener, BrowserOpenFilter, browserCommand, isOpenableURL } from './browser-open.ts'

const SEQ = (url: string, end = '\x1b\\') => `\x1b]9999;browser-open;${url}${end}`

/** Feeds `chunks` through one filter; returns what reached the terminal and the URLs seen. */
function run(chunks: string[]): { out: string; urls: string[] } {
  const urls: string[] = []
  const f = new BrowserOpenFilter((u) => urls.push(u))
  const out = chunks.map((c) => f.push(Buffer.from(c)).toString()).join('')
  return { out: out + f.flush().toString(), urls }
}

describe('browser-open sequence filter', () => {
  test('takes the sequence out and reports the URL; the rest passes in order', () => {
    const r = run([`before ${SEQ('https://a.example/x?y=1')} after`])
    assert.deepEqual(r, { out: 'before  after', urls: ['https://a.example/x?y=1'] })
    assert.deepEqual(run([`${SEQ('http://b', '\x07')}z`]), { out: 'z', urls: ['http://b'] })
    assert.deepEqual(run([`${SEQ('http://1')}${SEQ('http://2')}`]).urls, ['http://1', 'http://2'])
  })

  test('a sequence split at every byte is still found, and nothing is printed twice', () => {
    const text = `ab${SEQ('https://split.example/p')}cd`
    assert.deepEqual(run([...text]), { out: 'abcd', urls: ['https://split.example/p'] })
  })

  test('look-alikes and other escape sequences pass through untouched', () => {
    const colored = '\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]9999;other;x\x1b\\'
    assert.deepEqual(run([colored]), { out: colored, urls: [] })
    // A control byte inside the URL means it is not ours.
    const broken = '\x1b]9999;browser-open;http://a\nb\x1b\\'
    assert.deepEqual(run([broken]), { out: broken, urls: [] })
    // A prefix held at a chunk end goes out once the next chunk shows it is not the sequence.
    assert.deepEqual(run(['x\x1b]99', '8 y']), { out: 'x\x1b]998 y', urls: [] })
  })

  test('an unterminated sequence is held, then flushed at the end; an overlong one passes', () => {
    assert.deepEqual(run(['a\x1b]9999;browser-open;http://never']), {
      out: 'a\x1b]9999;browser-open;http://never',
      urls: [],
    })
    const long = `\x1b]9999;browser-open;http://${'x'.repeat(9000)}\x1b\\`
    assert.deepEqual(run([long.slice(0, 5000), long.slice(5000)]), { out: long, urls: [] })
  })
})

describe('opening the URL locally', () => {
  test('$BROWSER wins (first entry, %s or appended), else the platform opener', () => {
    const u = 'https://x.example/'
    assert.deepEqual(browserCommand(u, { BROWSER: 'firefox --new-tab:chromium' }), [
      'firefox',
      '--new-tab',
      u,
    ])
    assert.deepEqual(browserCommand(u, { BROWSER: 'w3m %s -dump' }), ['w3m', u, '-dump'])
    assert.deepEqual(browserCommand(u, {}, 'linux'), ['xdg-open', u])
    assert.deepEqual(browserCommand(u, {}, 'darwin'), ['open', u])
    assert.deepEqual(browserCommand(u, {}, 'win32'), ['rundll32', 'url.dll,FileProtocolHandler', u])
  })

  test('only http and https URLs are opened', () => {
    assert.ok(isOpenableURL('http://localhost:8080/a'))
    assert.ok(isOpenableURL('https://example.com'))
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ssh://h',
      'not a url',
      ' http://x',
    ]) {
      assert.equal(isOpenableURL(bad), false, bad)
    }
  })

  test('opens the parsed URL as one argument; refusals and failures are reported', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sprites-browser-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const out = join(dir, 'opened')
    const script = join(dir, 'browser.sh')
    writeFileSync(script, `#!/bin/sh\nprintf '%s|%s\\n' "$#" "$1" >> ${out}\n`, { mode: 0o755 })
    const said: string[] = []
    const opener = new BrowserOpener({ BROWSER: script, PATH: process.env.PATH }, (m) =>
      said.push(m),
    )
    opener.open('https://x.example/a b?c=$(id)&d=`x`"q"')
    const expected = '1|https://x.example/a%20b?c=$(id)&d=%60x%60%22q%22\n'
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8') === expected)
    assert.equal(readFileSync(out, 'utf8'), expected, 'spaces, quotes and backticks encoded')

    opener.open('file:///etc/passwd\x1b[2J')
    assert.match(said.pop() ?? '', /asked to open "file:\/\/\/etc\/passwd\ufffd\[2J"; only http/)
    const failing = new BrowserOpener({ BROWSER: join(dir, 'missing') }, (m) => said.push(m))
    failing.open('https://x.example/')
    await waitFor(() => said.length > 0)
    assert.match(said.pop() ?? '', /could not start a browser .*; open https:\/\/x\.example\//)
  })

  test('the same URL is opened once, and at most 3 in 10 s', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sprites-browser-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const out = join(dir, 'opened')
    const script = join(dir, 'browser.sh')
    writeFileSync(script, `#!/bin/sh\necho "$1" >> ${out}\n`, { mode: 0o755 })
    let now = 1_000_000
    const said: string[] = []
    const opener = new BrowserOpener(
      { BROWSER: script, PATH: process.env.PATH },
      (m) => said.push(m),
      () => now,
    )
    for (const u of ['https://a.test/', 'https://a.test/', 'https://b.test/', 'https://c.test/']) {
      opener.open(u)
    }
    opener.open('https://d.test/')
    assert.deepEqual(said, ['not opening more URLs so soon; open https://d.test/'])
    now += 10_001
    opener.open('https://a.test/')
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : [])
    await waitFor(() => lines().length === 4)
    assert.deepEqual(lines().sort(), [
      'https://a.test/',
      'https://a.test/',
      'https://b.test/',
      'https://c.test/',
    ])
  })
})

/** Polls `check` every 10 ms for up to 3 s. */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}
