/** A tiny in-process HTTP + WebSocket server for SDK unit tests (127.0.0.1, random port). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'

export interface FakeRequest {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: Buffer
}

export interface FakeHandlers {
  /** Answers plain HTTP requests. */
  http?: (req: FakeRequest, res: ServerResponse) => void | Promise<void>
  /** Handles an upgraded exec socket. */
  ws?: (ws: WebSocket, req: FakeRequest) => void
}

export interface FakeServer {
  baseURL: string
  requests: FakeRequest[]
  close(): Promise<void>
}

function toFake(req: IncomingMessage, body: Buffer): FakeRequest {
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', 'http://x'),
    headers: req.headers,
    body,
  }
}

/** Starts the server; close it in `t.after`. */
export async function startFakeServer(h: FakeHandlers): Promise<FakeServer> {
  const requests: FakeRequest[] = []
  const wss = new WebSocketServer({ noServer: true })
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const fake = toFake(req, Buffer.concat(chunks))
      requests.push(fake)
      Promise.resolve(h.http?.(fake, res)).catch((err) => res.destroy(err))
      if (!h.http) res.writeHead(404).end()
    })
  })
  server.on('upgrade', (req, socket, head) => {
    const fake = toFake(req, Buffer.alloc(0))
    requests.push(fake)
    wss.handleUpgrade(req, socket, head, (ws) => h.ws?.(ws, fake))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Writes a JSON response. */
export function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** A SpriteInfo wire object with defaults. */
export function spriteWire(
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: `sprite-${name}`,
    name,
    organization: 'personal',
    org_slug: 'personal',
    status: 'cold',
    config: { ram_mb: 2048, cpus: 2, region: 'local', storage_gb: 10 },
    environment: {},
    url: `https://${name}-abcde.sprites.local`,
    url_settings: { auth: 'sprite' },
    labels: [],
    created_at: '2026-01-13T10:30:00Z',
    updated_at: '2026-01-13T10:30:00Z',
    last_running_at: null,
    last_warming_at: null,
    last_started_at: null,
    last_active_at: null,
    version: '1',
    environment_version: '1',
    primary_region: 'local',
    ...extra,
  }
}

/** A `session_info` text message. */
export function sessionInfo(id: number, tty: boolean): string {
  return JSON.stringify({
    type: 'session_info',
    session_id: id,
    command: '/bin/sh',
    created: 1767225600,
    cols: tty ? 80 : 0,
    rows: tty ? 24 : 0,
    is_owner: true,
    tty,
  })
}
