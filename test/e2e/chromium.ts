// Headless Chromium driven over the DevTools protocol with `ws` (no browser-automation package):
// launch, open a page, navigate, evaluate, wait for a condition, close.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** Path of an installed Chromium, or null (Debian: `apt-get install chromium`). */
export function chromiumPath(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null
}

interface Pending {
  resolve(v: unknown): void
  reject(e: Error): void
}

/** One DevTools-protocol connection; commands go to the browser or to an attached session. */
class CDP {
  readonly #ws: WebSocket
  readonly #pending = new Map<number, Pending>()
  #next = 1

  constructor(ws: WebSocket) {
    this.#ws = ws
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as {
        id?: number
        result?: unknown
        error?: { message: string }
      }
      const p = msg.id === undefined ? undefined : this.#pending.get(msg.id)
      if (!p || msg.id === undefined) return
      this.#pending.delete(msg.id)
      if (msg.error) p.reject(new Error(msg.error.message))
      else p.resolve(msg.result)
    })
  }

  send<T>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }))
    })
  }

  close(): void {
    this.#ws.close()
  }
}

export interface Page {
  navigate(url: string): Promise<void>
  /** Evaluates an expression in the page; the value comes back as JSON. */
  evaluate<T>(expression: string): Promise<T>
  /** Polls `expression` until it is truthy; returns its value. */
  waitFor<T>(expression: string, timeoutMs?: number): Promise<T>
}

export interface Browser {
  newPage(): Promise<Page>
  close(): Promise<void>
}

/** Starts headless Chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const bin = chromiumPath()
  if (!bin) throw new Error('chromium is not installed')
  const profile = mkdtempSync(join(tmpdir(), 'sprites-chromium-'))
  const child = spawn(
    bin,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-proxy-server',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      ...extraArgs,
      'about:blank',
    ],
    // Its own process group: Chromium's helpers (renderer, utility, crashpad) can outlive the
    // main process and keep writing into the profile, so the whole group is ended on close.
    // TMPDIR inside the profile: its singleton-socket directory goes away with the profile.
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, TMPDIR: profile },
    },
  )
  try {
    const endpoint = await devtoolsEndpoint(child)
    const ws = new WebSocket(endpoint, { perMessageDeflate: false })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const cdp = new CDP(ws)
    return {
      newPage: () => openPage(cdp),
      close: async () => {
        cdp.close()
        await stop(child)
        removeProfile(profile)
      },
    }
  } catch (err) {
    await stop(child)
    removeProfile(profile)
    throw err
  }
}

function devtoolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = ''
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 30_000)
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`chromium exited (${code}):\n${err}`))
    })
  })
}

/** Ends Chromium's process group (SIGTERM, SIGKILL after 5 s) and waits until it is empty. */
async function stop(child: ChildProcess): Promise<void> {
  const pgid = child.pid
  if (pgid === undefined) return
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => child.once('exit', r))
  signalGroup(pgid, 'SIGTERM')
  const t = setTimeout(() => signalGroup(pgid, 'SIGKILL'), 5_000)
  await exited
  clearTimeout(t)
  // Helpers still in the group get SIGKILL; wait (bounded) until none is left.
  signalGroup(pgid, 'SIGKILL')
  const deadline = Date.now() + 5_000
  while (signalGroup(pgid, 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Signals every process in the group; false once the group has no process left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/** Removes the profile, retrying while a late writer still adds files to it. */
function removeProfile(profile: string): void {
  rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
}

async function openPage(cdp: CDP): Promise<Page> {
  const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
    url: 'about:blank',
  })
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
    targetId,
    flatten: true,
  })
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await cdp.send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true },
      sessionId,
    )
    if (r.exceptionDetails) throw new Error(`page error: ${r.exceptionDetails.text}`)
    return r.result.value
  }
  return {
    evaluate,
    navigate: async (url) => {
      await cdp.send('Page.navigate', { url }, sessionId)
    },
    waitFor: async <T>(expression: string, timeoutMs = 15_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const v = await evaluate<T>(expression).catch(() => undefined)
        if (v) return v
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
}
