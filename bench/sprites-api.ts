// A minimal client for the few Sprites API calls the benchmark times, with raw `ws` sockets so
// that nothing but the wire protocol sits between the timer and the server.
import { performance } from 'node:perf_hooks'
import { decodeFrame, StreamID } from '@sprites/protocol'
import WebSocket from 'ws'

export interface ServerEndpoint {
  baseURL: string
  token: string
}

/** Timestamps (`performance.now()`) of one exec over the WebSocket. */
export interface ExecRun {
  /** Resolves at the first non-empty stdout frame. */
  firstStdout: Promise<number>
  /** Resolves at the exit frame with its time and the exit code. */
  exit: Promise<{ at: number; code: number }>
}

function authHeaders(s: ServerEndpoint): Record<string, string> {
  return { authorization: `Bearer ${s.token}` }
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (ok.includes(res.status)) return
  throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`)
}

/** POST /v1/sprites: creates a sprite; creation starts nothing (sprites-api.md §2). */
export async function createSprite(s: ServerEndpoint, name: string): Promise<void> {
  const res = await fetch(`${s.baseURL}/v1/sprites`, {
    method: 'POST',
    headers: { ...authHeaders(s), 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
  await expectStatus(res, [201], `create sprite ${name}`)
  await res.arrayBuffer()
}

/** DELETE /v1/sprites/{name}; a sprite that is already gone counts as deleted. */
export async function deleteSprite(s: ServerEndpoint, name: string): Promise<void> {
  const res = await fetch(`${s.baseURL}/v1/sprites/${name}`, {
    method: 'DELETE',
    headers: authHeaders(s),
  })
  await expectStatus(res, [204, 404], `delete sprite ${name}`)
  await res.arrayBuffer()
}

function execQuery(cmd: readonly string[]): string {
  const q = new URLSearchParams()
  for (const arg of cmd) q.append('cmd', arg)
  return q.toString()
}

/** Starts `cmd` over the exec WebSocket (non-TTY, no stdin) and reports frame arrival times. */
export function execWebSocket(s: ServerEndpoint, name: string, cmd: readonly string[]): ExecRun {
  const url = `${s.baseURL.replace(/^http/, 'ws')}/v1/sprites/${name}/exec?${execQuery(cmd)}`
  const ws = new WebSocket(url, { headers: authHeaders(s) })
  let onStdout: (at: number) => void = () => {}
  const firstStdout = new Promise<number>((resolve) => {
    onStdout = resolve
  })
  const exit = new Promise<{ at: number; code: number }>((resolve, reject) => {
    let exited = false
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = performance.now()
      if (!isBinary) return // session_info and other JSON notices
      const frame = decodeFrame(data)
      if (frame === null) return // keepalive
      if (frame.stream === StreamID.Stdout && frame.data.length > 0) onStdout(at)
      if (frame.stream === StreamID.Exit) {
        exited = true
        resolve({ at, code: frame.data[0] ?? 255 })
        ws.close(1000)
      }
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => reject(new Error(`exec upgrade: HTTP ${res.statusCode} ${body}`)))
    })
    ws.on('error', reject)
    ws.on('close', (code, reason) => {
      if (!exited) reject(new Error(`exec socket closed before exit: ${code} ${reason}`))
    })
  })
  // A run that fails before any stdout must not leave `firstStdout` pending forever.
  exit.catch(() => onStdout(Number.NaN))
  return { firstStdout, exit }
}

/** POST /v1/sprites/{name}/exec (§3.12); resolves to the exit code in the final frame. */
export async function execHTTP(s: ServerEndpoint, name: string, cmd: readonly string[]) {
  const res = await fetch(`${s.baseURL}/v1/sprites/${name}/exec?${execQuery(cmd)}`, {
    method: 'POST',
    headers: authHeaders(s),
  })
  await expectStatus(res, [200], `HTTP exec on ${name}`)
  const body = Buffer.from(await res.arrayBuffer())
  const n = body.length
  if (n < 2 || body[n - 2] !== StreamID.Exit) throw new Error('HTTP exec: no exit frame at the end')
  return body[n - 1] as number
}
