/** An in-process fake Sprites API for CLI tests: sprites in memory, exec runs `exit N` / `echo`. */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { CLIIO } from '../src/io.ts'

export interface FakeAPI {
  baseURL: string
  sprites: Map<string, Record<string, unknown>>
  log: string[]
  close(): Promise<void>
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function handle(api: FakeAPI, method: string, url: URL, body: string, res: ServerResponse) {
  const [, , , name] = url.pathname.split('/')
  if (method === 'POST' && url.pathname === '/v1/sprites') {
    const req = JSON.parse(body) as { name: string; labels?: string[] }
    if (api.sprites.has(req.name))
      return json(res, 409, {
        error: 'sprite_already_exists',
        message: `sprite already exists: ${req.name}`,
      })
    const s = {
      id: `sprite-${req.name}`,
      name: req.name,
      status: 'cold',
      labels: req.labels ?? [],
      url: `http://${req.name}.local`,
    }
    api.sprites.set(req.name, s)
    return json(res, 201, s)
  }
  if (method === 'GET' && url.pathname === '/v1/sprites') {
    const all = [...api.sprites.values()].filter((s) =>
      String(s.name).startsWith(url.searchParams.get('prefix') ?? ''),
    )
    return json(res, 200, { sprites: all, has_more: false, next_continuation_token: null })
  }
  const sprite = name ? api.sprites.get(name) : undefined
  if (!sprite)
    return json(res, 404, { error: 'sprite_not_found', message: `sprite not found: ${name}` })
  if (method === 'DELETE') {
    api.sprites.delete(name as string)
    return res.writeHead(204).end()
  }
  return json(res, 200, sprite)
}

/** Starts the fake API; exec of `sh -c "exit N"` exits N, `echo …` prints its args, `cat` echoes stdin. */
export async function startFakeAPI(): Promise<FakeAPI> {
  const wss = new WebSocketServer({ noServer: true })
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString()
    })
    req.on('end', () => {
      api.log.push(`${req.method} ${req.url}`)
      handle(api, req.method ?? 'GET', new URL(req.url ?? '/', 'http://x'), body, res)
    })
  })
  server.on('upgrade', (req, socket, head) => {
    api.log.push(`WS ${req.url}`)
    const cmd = new URL(req.url ?? '/', 'http://x').searchParams.getAll('cmd')
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(
        JSON.stringify({
          type: 'session_info',
          session_id: 1,
          command: cmd.join(' '),
          created: 0,
          cols: 0,
          rows: 0,
          is_owner: true,
          tty: false,
        }),
      )
      ws.send(Buffer.alloc(0))
      if (cmd[0] === 'echo')
        ws.send(Buffer.from([1, ...Buffer.from(`${cmd.slice(1).join(' ')}\n`)]))
      if (cmd[0] === 'cat') {
        ws.on('message', (m: Buffer) => {
          if (m[0] === 0) ws.send(Buffer.from([1, ...m.subarray(1)]))
          if (m[0] === 4) ws.send(Buffer.from([3, 0]))
        })
        return
      }
      const m = /exit (\d+)/.exec(cmd.join(' '))
      ws.send(Buffer.from([2, ...Buffer.from('to stderr')]))
      ws.send(Buffer.from([3, m ? Number(m[1]) : 0]))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const api: FakeAPI = {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sprites: new Map(),
    log: [],
    close: async () => {
      for (const c of wss.clients) c.terminate()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
  return api
}

export interface TestIO extends CLIIO {
  out(): string
  errText(): string
}

/** IO with captured stdout/stderr and a non-TTY stdin holding `input`. */
export function testIO(opts: {
  env?: Record<string, string>
  cwd: string
  home: string
  input?: string
}): TestIO {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => {
    out += c.toString()
  })
  stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  return {
    env: opts.env ?? {},
    stdin: Readable.from(opts.input ? [Buffer.from(opts.input)] : []),
    stdout,
    stderr,
    cwd: opts.cwd,
    home: opts.home,
    out: () => out,
    errText: () => err,
  }
}
