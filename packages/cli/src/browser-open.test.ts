import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { BrowserOpenFilter, browserCommand, isOpenableURL, openInBrowser } from './browser-open.ts'

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
    assert.deepEqual(browserCommand(u, {}, 'win32'), ['cmd', '/c', 'start', '""', u])
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

  test('runs the browser with the URL as one argument; refusals and failures are reported', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sprites-browser-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const out = join(dir, 'opened')
    const script = join(dir, 'browser.sh')
    writeFileSync(script, `#!/bin/sh\nprintf '%s|%s' "$#" "$1" > ${out}\n`, { mode: 0o755 })
    const url = 'https://x.example/a b?c=$(id)&d=`x`'
    const failures: string[] = []
    openInBrowser(url, { BROWSER: script, PATH: process.env.PATH }, (m) => failures.push(m))
    for (let i = 0; i < 200 && failures.length === 0; i++) {
      try {
        assert.equal(readFileSync(out, 'utf8'), `1|${url}`)
        break
      } catch {
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    assert.equal(readFileSync(out, 'utf8'), `1|${url}`)

    openInBrowser('file:///etc/passwd', {}, (m) => failures.push(m))
    assert.match(failures.pop() ?? '', /only http and https URLs are opened/)
    const failed = new Promise<string>((resolve) =>
      openInBrowser('https://x.example/', { BROWSER: join(dir, 'missing') }, resolve),
    )
    assert.match(await failed, /could not start a browser .*; open https:\/\/x\.example\//)
    assert.deepEqual(failures, [])
  })
})
