import type { ExecSession } from '@sprites/sdk'
import { BrowserOpener, BrowserOpenFilter, printable } from './browser-open.ts'
import type { Context } from './context.ts'
import { PortForwarder } from './port-forward.ts'

/** Ctrl+\ detaches from a TTY session (D15). */
const DETACH_BYTE = 0x1c

export interface RunSessionOptions {
  /** Put the local terminal in raw mode: now, or once `session_info` says the session is a TTY. */
  raw: boolean | 'auto'
  /** Forward local stdin (non-TTY: data frames, then EOF at end of input). */
  pipeStdin: boolean
  /** Sprite name, for the re-attach hint. */
  sprite: string
  /** Forward ports that open in the session to local ports (`port_opened`). */
  forwardPorts?: boolean
  /**
   * The session is re-attached: output right after `session_info` is its scrollback, so URLs
   * found there were asked for earlier and are only printed, not opened.
   */
  attached?: boolean
}

/** How long after `session_info` an attach's output counts as the replayed scrollback. */
const REPLAY_MS = 500

/**
 * Connects a session to the local terminal until it exits or the user detaches.
 * @returns the remote exit code, or 0 after a detach
 */
export async function runSession(
  ctx: Context,
  s: ExecSession,
  o: RunSessionOptions,
): Promise<number> {
  const { stdin, stdout, stderr } = ctx.io
  const terminal = createTerminal(ctx, s)
  // On a TTY, `sprite-browser` in the sprite asks for a URL to be opened here (§12.2).
  const tty = () => o.raw === true || s.info?.tty === true
  let liveFrom = 0
  if (o.attached) s.on('sessionInfo', () => (liveFrom = Date.now() + REPLAY_MS))
  const say = (message: string) =>
    stderr.write(`sprite-browser: ${message}${terminal.isRaw ? '\r\n' : '\n'}`)
  const opener = new BrowserOpener(ctx.io.env, say)
  const browser = new BrowserOpenFilter((url) => {
    if (Date.now() < liveFrom) say(`asked earlier to open ${printable(url)}; not opened again`)
    else opener.open(url)
  })
  s.on('stdout', (b) => stdout.write(tty() ? browser.push(b) : b))
  s.on('stderr', (b) => stderr.write(b))
  const forwarder = o.forwardPorts
    ? new PortForwarder(ctx.client(), o.sprite, (line) =>
        stderr.write(`${line}${terminal.isRaw ? '\r\n' : '\n'}`),
      )
    : null
  if (forwarder) s.on('message', (msg) => forwarder.handle(msg))
  let detach!: () => void
  const detached = new Promise<number>((resolve) => {
    detach = () => resolve(0)
  })
  if (o.raw === true) terminal.enter()
  else if (o.raw === 'auto') s.on('sessionInfo', (info) => info.tty && terminal.enter())
  const onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (terminal.isRaw && buf.includes(DETACH_BYTE)) {
      s.close()
      printDetach(ctx, s, o.sprite)
      detach()
    } else s.write(buf)
  }
  const onEnd = () => s.endStdin()
  if (o.pipeStdin || o.raw !== false) {
    stdin.on('data', onData)
    stdin.on('end', onEnd)
  }
  try {
    return await Promise.race([s.wait(), detached])
  } finally {
    const held = browser.flush()
    if (held.length > 0) stdout.write(held)
    stdin.removeListener('data', onData)
    stdin.removeListener('end', onEnd)
    stdin.pause()
    terminal.leave()
    forwarder?.closeAll()
  }
}

function printDetach(ctx: Context, s: ExecSession, sprite: string): void {
  const id = s.info?.sessionID ?? '?'
  ctx.io.stderr.write(
    `\r\nDetached from session ${id}; it keeps running.\r\nRe-attach with: sprite sessions attach ${id} -s ${sprite}\r\n`,
  )
}

/** Raw mode and size tracking of the local terminal, undone by `leave()`. */
function createTerminal(ctx: Context, s: ExecSession) {
  const { stdin, stdout } = ctx.io
  const onResize = () => s.resize(stdout.columns ?? 80, stdout.rows ?? 24)
  const state = {
    isRaw: false,
    enter() {
      if (state.isRaw || !stdin.isTTY || !stdin.setRawMode) return
      stdin.setRawMode(true)
      state.isRaw = true
      stdout.on('resize', onResize)
      onResize()
    },
    leave() {
      if (!state.isRaw) return
      stdin.setRawMode?.(false)
      stdout.removeListener('resize', onResize)
      state.isRaw = false
    },
  }
  return state
}
