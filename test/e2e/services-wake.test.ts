// Services across stops, wakes and restores (sprites-api.md §7, issue 5): a graceful stop in
// reverse `needs` order before the sandbox goes, a warm wake through the URL keeps the pid, and
// a restore brings back the services of the checkpoint.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { api, type Conn, createSprite, deleteAll, execWS, sh, waitUntil } from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'
import { PY_SERVER, urlRequest } from './url-fixtures.ts'

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : 'needs root to run sprites'

interface ServiceWire {
  name: string
  state: { status: string; pid?: number }
}

const svc = (sprite: string, rest = '') => `/v1/sprites/${sprite}/services${rest}`

async function put(conn: Conn, sprite: string, name: string, body: object): Promise<void> {
  const r = await api(conn, 'PUT', svc(sprite, `/${name}?duration=0`), { body, timeoutMs: 60_000 })
  assert.equal(r.status, 200, r.text)
}

async function service(conn: Conn, sprite: string, name: string): Promise<ServiceWire | null> {
  const r = await api(conn, 'GET', svc(sprite, `/${name}`))
  if (r.status === 404) return null
  assert.equal(r.status, 200, r.text)
  return r.json as ServiceWire
}

async function running(conn: Conn, sprite: string, name: string): Promise<ServiceWire> {
  let s: ServiceWire | null = null
  await waitUntil(
    async () => {
      s = await service(conn, sprite, name)
      return s?.state.status === 'running'
    },
    15_000,
    `${name} running`,
  )
  return s as unknown as ServiceWire
}

const status = async (conn: Conn, sprite: string) =>
  ((await api(conn, 'GET', `/v1/sprites/${sprite}`)).json as { status: string }).status

/** A service that notes its SIGTERM in /home/sprite/stops, then exits. */
const noting = (tag: string, needs: string[] = []) => ({
  cmd: 'sh',
  args: [
    '-c',
    `trap 'echo ${tag} >> /home/sprite/stops; exit 0' TERM; while :; do sleep 0.1; done`,
  ],
  needs,
})

describe('services across stop and restore', { skip }, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []

  before(async () => {
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('a stopping sprite stops its services gracefully, dependants first', async () => {
    const sp = uniqueName('svcstop')
    names.push(sp)
    await createSprite(conn, sp)
    await put(conn, sp, 'db', noting('db'))
    await put(conn, sp, 'app', noting('app', ['db']))
    await put(conn, sp, 'worker', noting('worker', ['app']))
    for (const n of ['db', 'app', 'worker']) await running(conn, sp, n)
    // Shutdown stops every running sprite; each gets SIGTERM while its sandbox is alive.
    await srv.stop()
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    assert.equal(
      (await sh(conn, sp, 'cat /home/sprite/stops')).trim().split('\n').join(','),
      'worker,app,db',
    )
  })

  test('a restore brings back the services of the checkpoint, running', async () => {
    const sp = uniqueName('svcrest')
    names.push(sp)
    await createSprite(conn, sp)
    await put(conn, sp, 'keep', { cmd: 'sh', args: ['-c', 'exec sleep 1000'] })
    await running(conn, sp, 'keep')
    const cp = await api(conn, 'POST', `/v1/sprites/${sp}/checkpoint`, {
      body: {},
      timeoutMs: 60_000,
    })
    assert.equal(cp.status, 200, cp.text)
    const id = (
      cp.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id?: string })
        .at(-1) as { id: string }
    ).id
    assert.equal((await api(conn, 'DELETE', svc(sp, '/keep'))).status, 204)
    assert.equal(await service(conn, sp, 'keep'), null)
    const r = await api(conn, 'POST', `/v1/sprites/${sp}/checkpoints/${id}/restore`, {
      timeoutMs: 60_000,
    })
    assert.equal(r.status, 200, r.text)
    const back = await running(conn, sp, 'keep')
    assert.ok(back.state.pid, JSON.stringify(back))
  })
})

describe('services across a warm wake', { skip }, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []

  before(async () => {
    srv = await startSpritesd({ SPRITES_WARM_AFTER_MS: '500' })
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('a URL request wakes a warm sprite and its service keeps its pid', async () => {
    const sp = uniqueName('svcwarm')
    names.push(sp)
    const info = (await createSprite(conn, sp)) as unknown as { url: string }
    const w = await execWS(conn, sp, ['sh', '-c', 'cat > /home/sprite/srv.py'], {
      stdin: PY_SERVER,
    })
    assert.equal(w.code, 0, w.stderr)
    await put(conn, sp, 'web', {
      cmd: 'python3',
      args: ['/home/sprite/srv.py', '8000'],
      http_port: 8000,
    })
    const before = await running(conn, sp, 'web')
    await waitUntil(async () => (await status(conn, sp)) === 'warm', 15_000, 'sprite warm')
    const r = await urlRequest(conn.baseURL, new URL(info.url).host, '/wake', {
      headers: { authorization: `Bearer ${conn.token}` },
    })
    assert.equal(r.status, 200, r.body.toString())
    assert.equal(JSON.parse(r.body.toString()).path, '/wake')
    const after = await service(conn, sp, 'web')
    assert.equal(after?.state.status, 'running')
    assert.equal(after?.state.pid, before.state.pid)
  })
})

describe('services when a warm sprite goes cold', { skip }, () => {
  let srv: Spritesd
  let conn: Conn
  const names: string[] = []

  before(async () => {
    srv = await startSpritesd({ SPRITES_WARM_AFTER_MS: '500', SPRITES_COLD_AFTER_MS: '2000' })
    conn = { baseURL: srv.baseURL, token: srv.token }
  })
  after(async () => {
    await deleteAll(conn, names)
    await srv?.stop()
  })

  test('frozen services are thawed for a graceful stop, dependants first', async () => {
    const sp = uniqueName('svccold')
    names.push(sp)
    await createSprite(conn, sp)
    await put(conn, sp, 'db', noting('db'))
    await put(conn, sp, 'app', noting('app', ['db']))
    for (const n of ['db', 'app']) await running(conn, sp, n)
    const seen: string[] = []
    await waitUntil(
      async () => {
        const s = await status(conn, sp)
        if (seen.at(-1) !== s) seen.push(s)
        return s === 'cold'
      },
      20_000,
      'sprite cold',
    )
    assert.ok(seen.includes('warm'), `went cold by way of warm: ${seen.join(' → ')}`)
    // The exec wakes it cold; the notes were written by the TERM traps before the sandbox went.
    assert.equal(
      (await sh(conn, sp, 'cat /home/sprite/stops')).trim().split('\n').join(','),
      'app,db',
    )
  })
})
