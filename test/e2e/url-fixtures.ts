// A Python HTTP server for sprite-URL tests (headers echo, SSE, WebSocket echo, big download),
// and raw HTTP helpers that set the Host header of a sprite URL.
import { createHash, randomBytes } from 'node:crypto'
import { type IncomingHttpHeaders, request } from 'node:http'
import type { Duplex } from 'node:stream'

/** Python 3 stdlib only; listens on argv[1]; HTTP/1.1 with keep-alive (SSE closes its connection)
 * and TCP_NODELAY (headers and body are separate writes; Nagle would hold the body ~40 ms on a
 * kept-alive connection). */
export const PY_SERVER = String.raw`
import base64, hashlib, json, struct, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get('content-length', '0'))
        got = 0
        while got < n:
            got += len(self.rfile.read(min(65536, n - got)))
        self.reply(json.dumps({'received': got}).encode())
    def reply(self, body, ctype='application/json'):
        self.send_response(200)
        self.send_header('content-type', ctype)
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == '/sse': return self.sse()
        if self.path == '/ws': return self.ws()
        if self.path.startswith('/big'): return self.big(int(self.path.split('=')[1]))
        self.reply(json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}}).encode())
    def sse(self):
        self.send_response(200)
        self.send_header('content-type', 'text/event-stream')
        self.send_header('connection', 'close')
        self.end_headers()
        for i in range(5):
            self.wfile.write(b'data: %d\n\n' % i)
            self.wfile.flush()
            time.sleep(0.3)
    def big(self, n):
        self.send_response(200)
        self.send_header('content-type', 'application/octet-stream')
        self.send_header('content-length', str(n))
        self.end_headers()
        chunk = b'x' * 65536
        while n > 0:
            self.wfile.write(chunk[:min(n, 65536)])
            n -= min(n, 65536)
    def ws(self):
        key = self.headers['sec-websocket-key']
        acc = base64.b64encode(hashlib.sha1((key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
        self.send_response(101)
        self.send_header('upgrade', 'websocket')
        self.send_header('connection', 'Upgrade')
        self.send_header('sec-websocket-accept', acc)
        self.end_headers()
        self.wfile.flush()
        r = self.rfile
        while True:
            h = r.read(2)
            if len(h) < 2: return
            op, ln = h[0] & 15, h[1] & 127
            if ln == 126: ln = struct.unpack('>H', r.read(2))[0]
            elif ln == 127: ln = struct.unpack('>Q', r.read(8))[0]
            mask = r.read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(r.read(ln)))
            if op == 8:
                self.wfile.write(b'\x88\x00'); self.wfile.flush(); return
            hdr = bytes([0x80 | op]) + (bytes([ln]) if ln < 126 else b'\x7e' + struct.pack('>H', ln))
            self.wfile.write(hdr + data); self.wfile.flush()

ThreadingHTTPServer(('0.0.0.0', int(sys.argv[1])), H).serve_forever()
`

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** One request to the server's listener with the Host of a sprite URL. */
export function urlRequest(
  baseURL: string,
  host: string,
  path: string,
  opts: {
    method?: string
    headers?: Record<string, string>
    body?: Buffer
    discard?: boolean
  } = {},
): Promise<RawResponse & { length: number }> {
  const u = new URL(baseURL)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: { ...opts.headers, host },
        timeout: 30_000,
      },
      (res) => {
        // `discard` counts the bytes without holding them (for bodies larger than memory checks).
        const chunks: Buffer[] = []
        let length = 0
        res.on('data', (d: Buffer) => {
          length += d.length
          if (!opts.discard) chunks.push(d)
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            length,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.end(opts.body)
  })
}

/** WebSocket handshake through the URL; resolves with the raw tunnelled socket. */
export function urlUpgrade(
  baseURL: string,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ socket: Duplex; accept: string | undefined; expected: string }> {
  const u = new URL(baseURL)
  const key = randomBytes(16).toString('base64')
  const expected = createHash('sha1')
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64')
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      path,
      headers: {
        ...headers,
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': key,
        'sec-websocket-version': '13',
      },
    })
    req.on('upgrade', (res, socket) =>
      resolve({ socket, accept: res.headers['sec-websocket-accept'] as string, expected }),
    )
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)))
    req.on('error', reject)
    req.end()
  })
}

/** A masked client text frame (payload < 126 bytes). */
export function wsTextFrame(text: string): Buffer {
  const data = Buffer.from(text)
  const mask = randomBytes(4)
  const masked = Buffer.from(data.map((b, i) => b ^ (mask[i % 4] as number)))
  return Buffer.concat([Buffer.from([0x81, 0x80 | data.length]), mask, masked])
}
