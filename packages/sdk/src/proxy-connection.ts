import { Duplex } from 'node:stream'
import { SpritesError } from '@sprites/protocol'
import { parseAPIError } from './api-error.ts'
import { apiURL } from './http.ts'
import type { ResolvedOptions, WebSocketLike } from './options.ts'

/** How long the server may take to answer the init message (§9.1). */
export const PROXY_CONNECT_TIMEOUT_MS = 10_000

const OPEN = 1

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.alloc(0)
}

/**
 * Opens one TCP connection to `host:port` inside the sprite through `WS …/proxy` (§9.1) and
 * returns it as a Duplex once the server replied `connected`. Ending the Duplex closes the
 * WebSocket (the proxy has no half-close); the Duplex ends when the remote side closes.
 * @throws SpritesError `bad_gateway` when the sprite cannot connect, `internal` on a lost socket
 */
export function openProxyConnection(
  o: ResolvedOptions,
  name: string,
  host: string,
  port: number,
): Promise<Duplex> {
  const url = apiURL(o.baseURL, ['sprites', name, 'proxy']).replace(/^http/, 'ws')
  const ws = new o.WebSocket(url, { headers: { Authorization: `Bearer ${o.token}` } })
  ws.binaryType = 'arraybuffer'
  return new Promise((resolve, reject) => {
    let stream: Duplex | null = null
    const fail = (err: Error) => {
      clearTimeout(timer)
      if (ws.readyState <= OPEN) ws.close(1000, '')
      reject(err)
    }
    const timer = setTimeout(
      () => fail(new SpritesError('internal', `no answer from the proxy for ${host}:${port}`)),
      PROXY_CONNECT_TIMEOUT_MS,
    )
    hookHandshakeFailure(ws, fail)
    ws.addEventListener('open', () => ws.send(JSON.stringify({ host, port })))
    ws.addEventListener('message', (ev: { data: unknown }) => {
      if (stream) {
        const buf = toBuffer(ev.data)
        if (buf.length > 0) stream.push(buf)
        return
      }
      if (typeof ev.data !== 'string') return
      const reply = parseReply(ev.data)
      if (reply.status !== 'connected') {
        fail(
          new SpritesError(
            'bad_gateway',
            `cannot reach ${host}:${port} in sprite ${name}: ${reply.error ?? 'refused'}`,
          ),
        )
        return
      }
      clearTimeout(timer)
      stream = wrap(ws)
      resolve(stream)
    })
    ws.addEventListener('close', (ev: { code: number; reason: string }) => {
      if (stream) stream.push(null)
      else
        fail(new SpritesError('internal', `the proxy connection closed (${ev.code} ${ev.reason})`))
    })
    ws.addEventListener('error', (ev: { error?: unknown; message?: string }) => {
      const message = ev.error instanceof Error ? ev.error.message : (ev.message ?? 'error')
      if (stream) stream.destroy(new Error(message))
      else fail(new SpritesError('internal', `cannot open the proxy connection: ${message}`))
    })
  })
}

function parseReply(text: string): { status?: string; error?: string } {
  try {
    const v = JSON.parse(text) as unknown
    return typeof v === 'object' && v !== null ? (v as { status?: string; error?: string }) : {}
  } catch {
    return {}
  }
}

function wrap(ws: WebSocketLike): Duplex {
  return new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState === OPEN) ws.send(chunk)
      cb()
    },
    final(cb) {
      if (ws.readyState <= OPEN) ws.close(1000, '')
      cb()
    },
    destroy(err, cb) {
      if (ws.readyState <= OPEN) ws.close(1000, '')
      cb(err)
    },
  })
}

/** With `ws`, an HTTP error before the upgrade carries the contract's JSON error body. */
function hookHandshakeFailure(ws: WebSocketLike, fail: (err: Error) => void): void {
  const w = ws as WebSocketLike & {
    on?: (ev: string, fn: (...args: never[]) => void) => void
    terminate?: () => void
  }
  if (typeof w.on !== 'function') return
  w.on(
    'unexpected-response',
    (_req: unknown, res: NodeJS.ReadableStream & { statusCode?: number }) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        fail(parseAPIError(res.statusCode ?? 0, Buffer.concat(chunks).toString()))
        w.terminate?.()
      })
    },
  )
}
