import { spawn } from 'node:child_process'

/** `ESC ] 9999;browser-open;` — what `sprite-browser` prints before the URL (§12.2). */
const START = Buffer.from('\x1b]9999;browser-open;')
const ESC = 0x1b
const BEL = 0x07
/** A sequence longer than this is not ours: its bytes go to the terminal as they came. */
const MAX_URL_BYTES = 8 * 1024

/**
 * Takes `ESC ] 9999;browser-open;<url> ESC \` (or BEL-terminated) out of a terminal's output
 * stream and reports each URL; every other byte passes through in order. A sequence cut across
 * chunks is held until it is complete.
 */
export class BrowserOpenFilter {
  readonly #onURL: (url: string) => void
  #held = Buffer.alloc(0)

  constructor(onURL: (url: string) => void) {
    this.#onURL = onURL
  }

  /** What is still held (the output ended inside a would-be sequence). */
  flush(): Buffer {
    const held = this.#held
    this.#held = Buffer.alloc(0)
    return held
  }

  /** The bytes of `chunk` (and of what was held) that belong on the terminal now. */
  push(chunk: Buffer): Buffer {
    let buf = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk
    this.#held = Buffer.alloc(0)
    const out: Buffer[] = []
    for (;;) {
      const at = buf.indexOf(START)
      if (at < 0) {
        // Keep a tail that may be the start of a sequence continued in the next chunk.
        const keep = partialStart(buf)
        out.push(buf.subarray(0, buf.length - keep))
        this.#held = Buffer.from(buf.subarray(buf.length - keep))
        break
      }
      out.push(buf.subarray(0, at))
      const body = buf.subarray(at + START.length)
      const end = terminator(body)
      if (end === 'incomplete') {
        this.#held = Buffer.from(buf.subarray(at))
        break
      }
      if (end === 'invalid') {
        // Not a sequence of ours after all: its bytes go to the terminal.
        out.push(buf.subarray(at, at + START.length))
        buf = body
        continue
      }
      this.#onURL(body.subarray(0, end.index).toString('utf8'))
      buf = body.subarray(end.index + end.length)
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
  }
}

/**
 * Where `ESC \` or BEL ends the sequence in `body`; `incomplete` while it may still end in a
 * later chunk, `invalid` for another control byte or a URL longer than {@link MAX_URL_BYTES}.
 */
function terminator(body: Buffer): { index: number; length: number } | 'incomplete' | 'invalid' {
  for (let i = 0; i < body.length; i++) {
    if (i > MAX_URL_BYTES) return 'invalid'
    const b = body[i] as number
    if (b === BEL) return { index: i, length: 1 }
    if (b === ESC) {
      if (i + 1 === body.length) return 'incomplete'
      return body[i + 1] === 0x5c ? { index: i, length: 2 } : 'invalid'
    }
    if (b < 0x20 || b === 0x7f) return 'invalid'
  }
  return body.length > MAX_URL_BYTES ? 'invalid' : 'incomplete'
}

/** Length of the longest tail of `buf` that is a proper prefix of {@link START}. */
function partialStart(buf: Buffer): number {
  for (let n = Math.min(START.length - 1, buf.length); n > 0; n--) {
    if (buf.subarray(buf.length - n).equals(START.subarray(0, n))) return n
  }
  return 0
}

/**
 * The local command that opens `url`: `$BROWSER` (its first `:`-separated entry, `%s` replaced
 * by the URL or the URL appended), else `open` on macOS, `cmd /c start` on Windows, `xdg-open`
 * elsewhere.
 */
export function browserCommand(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: string = process.platform,
): string[] {
  const configured = env.BROWSER?.split(':')[0]?.trim()
  if (configured) {
    const words = configured.split(/\s+/)
    return words.some((w) => w.includes('%s'))
      ? words.map((w) => w.replaceAll('%s', url))
      : [...words, url]
  }
  if (platform === 'darwin') return ['open', url]
  // Not `cmd /c start`: cmd.exe would read `&`, `|` and `^` in the URL as its own syntax.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url]
  return ['xdg-open', url]
}

/** Only web pages are opened on the user's machine; anything else a sprite asks for is refused. */
export function isOpenableURL(url: string): boolean {
  try {
    const u = new URL(url)
    return (u.protocol === 'http:' || u.protocol === 'https:') && url === url.trim()
  } catch {
    return false
  }
}

/** How many URLs a session may open in {@link OPEN_WINDOW_MS}; more are only printed. */
const MAX_OPENS = 3
const OPEN_WINDOW_MS = 10_000

/**
 * Opens the URLs a sprite asks for, in the local browser, without waiting for it. What is opened
 * is the parsed URL (`new URL(url).href`, with spaces, quotes and backticks percent-encoded), never the
 * raw text. A sprite cannot flood the machine: the same URL again, or more than
 * {@link MAX_OPENS} in {@link OPEN_WINDOW_MS}, is printed instead of opened.
 */
export class BrowserOpener {
  readonly #env: Readonly<Record<string, string | undefined>>
  readonly #say: (message: string) => void
  readonly #now: () => number
  #recent: { href: string; at: number }[] = []

  constructor(
    env: Readonly<Record<string, string | undefined>>,
    say: (message: string) => void,
    now: () => number = Date.now,
  ) {
    this.#env = env
    this.#say = say
    this.#now = now
  }

  open(url: string): void {
    if (!isOpenableURL(url)) {
      this.#say(`the sprite asked to open ${printable(url)}; only http and https URLs are opened`)
      return
    }
    // The query keeps ` and ' as they came; an opener that goes through a shell must not see them.
    const href = new URL(url).href.replace(/[`']/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
    const now = this.#now()
    this.#recent = this.#recent.filter((r) => now - r.at < OPEN_WINDOW_MS)
    if (this.#recent.some((r) => r.href === href)) return
    if (this.#recent.length >= MAX_OPENS) {
      this.#say(`not opening more URLs so soon; open ${href}`)
      return
    }
    this.#recent.push({ href, at: now })
    const [cmd, ...args] = browserCommand(href, this.#env)
    if (!cmd) return
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, env: { ...this.#env } })
    child.once('error', () => this.#say(`could not start a browser (${cmd}); open ${href}`))
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) this.#say(`${cmd} exited ${code}; open ${href}`)
    })
    child.unref()
  }
}

/** `text` quoted for the user's terminal: no control characters (C0, DEL, C1) get through. */
export function printable(text: string): string {
  const safe = [...text]
    .map((c) => {
      const code = c.charCodeAt(0)
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? '\ufffd' : c
    })
    .join('')
  return JSON.stringify(safe)
}
