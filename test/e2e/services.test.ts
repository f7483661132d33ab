// Services (sprites-api.md §7) against a live spritesd with real sprites: definitions on the
// sprite's disk, needs order, crash restarts with backoff, sticky stop, logs and rotation, 409s.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { api, type Conn, createSprite, deleteAll, deleteSprite, execWS, sh } from './api-helpers.ts'
import { E2E_DATA_DIR, type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0

interface Event {
  type: string
  timestamp: number
  data?: string
  exit_code?: number | null
  log_files?: Record<string, string>
}

interface ServiceWire {
  name: string
  cmd: string
  args: string[]
  needs: string[]
  http_port: number | null
  state: {
    status: string
    pid?: number
    started_at?: string
    error?: string
    restart_count?: number
    next_restart_at?: string
  }
}

function svcPath(sprite: string, rest = ''): string {
  return `/v1/sprites/${sprite}/services${rest}`
}

async function ndjson(
  conn: Conn,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; events: Event[]; text: string; contentType: string | null }> {
  const r = await api(conn, method, path, { body, timeoutMs: 60_000 })
  const events =
    r.status === 200
      ? r.text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Event)
      : []
  return { status: r.status, events, text: r.text, contentType: r.headers.get('content-type') }
}

async function getService(conn: Conn, sprite: string, name: string): Promise<ServiceWire> {
  const r = await api(conn, 'GET', svcPath(sprite, `/${name}`))
  assert.equal(r.status, 200, r.text)
  return r.json as ServiceWire
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const sleeper = (tag: string) => ({
  cmd: 'sh',
  args: ['-c', `echo ${tag} started >> /home/sprite/order; echo hello-${tag}; exec sleep 1000`],
})

describe('services', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
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

  async function newSprite(prefix: string): Promise<string> {
    const name = uniqueName(prefix)
    names.push(name)
    await createSprite(conn, name)
    return name
  }

  test('create streams NDJSON, stores the definition on the disk, get and list show it', async () => {
    const sp = await newSprite('svc')
    const put = await ndjson(conn, 'PUT', svcPath(sp, '/web?duration=1s'), {
      cmd: 'sh',
      args: ['-c', 'echo out-line; echo err-line >&2; exec sleep 1000'],
      env: { GREETING: 'hi' },
    })
    assert.equal(put.status, 200, put.text)
    assert.equal(put.contentType, 'application/x-ndjson')
    const types = put.events.map((e) => e.type)
    assert.equal(types[0], 'started')
    assert.ok(types.includes('stdout') && types.includes('stderr'), put.text)
    const last = put.events.at(-1) as Event
    assert.equal(last.type, 'complete')
    assert.deepEqual(last.log_files, {
      combined: '/.sprite/logs/services/web.log',
      stdout: '/.sprite/logs/services/web.log',
      stderr: '/.sprite/logs/services/web.log',
    })
    for (const e of put.events) assert.ok(Number.isInteger(e.timestamp), JSON.stringify(e))
    const svc = await getService(conn, sp, 'web')
    assert.equal(svc.state.status, 'running')
    assert.ok(svc.state.pid && svc.state.pid > 1)
    assert.equal(svc.http_port, null)
    const list = await api(conn, 'GET', svcPath(sp))
    assert.ok(Array.isArray(list.json))
    assert.deepEqual(
      (list.json as ServiceWire[]).map((s) => s.name),
      ['web'],
    )
    const onDisk = JSON.parse(await sh(conn, sp, 'cat /.sprite/services/web.json'))
    assert.equal(onDisk.cmd, 'sh')
    assert.deepEqual(onDisk.env, { GREETING: 'hi' })
    const who = await sh(conn, sp, `cat /proc/${svc.state.pid}/status | grep -E '^(Uid|PPid)'`)
    assert.match(who, /Uid:\s+1001/)
    const log = await sh(conn, sp, 'cat /.sprite/logs/services/web.log')
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[stdout\] out-line$/m)
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[stderr\] err-line$/m)
    const logs = await ndjson(conn, 'GET', svcPath(sp, '/web/logs?lines=1'))
    assert.deepEqual(
      logs.events.map((e) => e.type),
      ['stderr', 'complete'],
    )
  })

  test('409s, 404s, 400s and the exact 204s', async () => {
    const sp = await newSprite('svc409')
    const put = (name: string, body: unknown) =>
      ndjson(conn, 'PUT', svcPath(sp, `/${name}?duration=0`), body)
    assert.equal((await put('a', { cmd: 'sleep', args: ['1000'], http_port: 8000 })).status, 200)
    const unknown = await put('b', { cmd: 'sleep', args: ['1000'], needs: ['nope'] })
    assert.equal(unknown.status, 409, unknown.text)
    assert.equal(JSON.parse(unknown.text).error, 'conflict')
    const port = await put('b', { cmd: 'sleep', args: ['1000'], httpPort: 8001 })
    assert.equal(port.status, 409)
    assert.equal(
      JSON.parse(port.text).message,
      'another service already has an HTTP port configured',
    )
    assert.equal((await put('b', { cmd: 'sleep', args: ['1000'], needs: ['a'] })).status, 200)
    const cycle = await put('a', { cmd: 'sleep', args: ['1000'], needs: ['b'] })
    assert.equal(cycle.status, 409)
    assert.match(JSON.parse(cycle.text).message, /cycle/)
    assert.equal((await put('c', { args: ['x'] })).status, 400)
    assert.equal((await put('bad name!', { cmd: 'true' })).status, 400)
    assert.equal((await api(conn, 'GET', svcPath(sp, '/zzz'))).status, 404)
    assert.equal((await api(conn, 'POST', svcPath(sp, '/zzz/start'))).status, 404)
    const needed = await api(conn, 'DELETE', svcPath(sp, '/a'))
    assert.equal(needed.status, 409)
    const sig = (body: unknown) => api(conn, 'POST', svcPath(sp, '/signal'), { body })
    assert.equal((await sig({ name: 'b', signal: 'NOPE' })).status, 400)
    assert.equal((await sig({ name: 'zzz', signal: 'HUP' })).status, 404)
    const ok = await sig({ name: 'b', signal: 'USR1' })
    assert.equal(ok.status, 204)
    assert.equal(ok.text, '')
    const stop = await ndjson(conn, 'POST', svcPath(sp, '/a/stop?timeout=2s'))
    assert.deepEqual(
      stop.events.map((e) => e.type),
      ['stopping', 'stopped', 'complete'],
    )
    assert.equal((await ndjson(conn, 'POST', svcPath(sp, '/a/stop'))).status, 409)
    assert.equal((await sig({ name: 'a', signal: 'HUP' })).status, 409)
    const del = await api(conn, 'DELETE', svcPath(sp, '/b'))
    assert.equal(del.status, 204)
    assert.equal(del.text, '')
    assert.equal((await api(conn, 'GET', svcPath(sp, '/b'))).status, 404)
  })

  test('needs order; crash restarts with growing delay', async () => {
    const sp = await newSprite('svcord')
    const put = (name: string, body: unknown) =>
      ndjson(conn, 'PUT', svcPath(sp, `/${name}?duration=0`), body)
    assert.equal((await put('db', sleeper('db'))).status, 200)
    assert.equal((await put('app', { ...sleeper('app'), needs: ['db'] })).status, 200)
    assert.equal((await ndjson(conn, 'POST', svcPath(sp, '/app/stop'))).status, 200)
    assert.equal((await ndjson(conn, 'POST', svcPath(sp, '/db/stop'))).status, 200)
    // Starting app starts its stopped need first, and only once that one runs.
    const start = await ndjson(conn, 'POST', svcPath(sp, '/app/start?duration=500ms'))
    assert.equal(start.status, 200)
    const db = await getService(conn, sp, 'db')
    const app = await getService(conn, sp, 'app')
    assert.equal(db.state.status, 'running')
    assert.equal(app.state.status, 'running')
    assert.ok(Date.parse(db.state.started_at!) <= Date.parse(app.state.started_at!))

    const crash = await put('crash', { cmd: 'sh', args: ['-c', 'echo boom; exit 3'] })
    assert.equal(crash.status, 200)
    const followed = await ndjson(conn, 'GET', svcPath(sp, '/crash/logs?lines=0&duration=7.5s'))
    const starts = [
      (crash.events.find((e) => e.type === 'started') as Event).timestamp,
      ...followed.events.filter((e) => e.type === 'started').map((e) => e.timestamp),
    ]
    assert.ok(starts.length >= 3, JSON.stringify(followed.events))
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number))
    assert.ok(gaps[0]! >= 900 && gaps[0]! < 1800, `first delay ${gaps[0]}`)
    assert.ok(gaps[1]! >= 1900 && gaps[1]! < 2900, `second delay ${gaps[1]}`)
    assert.ok(followed.events.some((e) => e.type === 'exit' && e.exit_code === 3))
    const state = (await getService(conn, sp, 'crash')).state
    assert.ok((state.restart_count ?? 0) >= 2, JSON.stringify(state))
    if (state.status === 'failed') {
      assert.ok(state.next_restart_at && Date.parse(state.next_restart_at) > Date.now() - 1000)
      assert.equal(state.error, 'exited with code 3')
    }
    assert.equal((await ndjson(conn, 'POST', svcPath(sp, '/crash/stop'))).status, 200)
    assert.equal((await getService(conn, sp, 'crash')).state.status, 'stopped')
  })

  test('a missing program streams error then complete', async () => {
    const sp = await newSprite('svcmiss')
    const r = await ndjson(conn, 'PUT', svcPath(sp, '/ghost?duration=3s'), { cmd: 'no-such-prog' })
    assert.equal(r.status, 200)
    const types = r.events.map((e) => e.type)
    assert.ok(types.includes('error'), r.text)
    assert.equal(types.at(-1), 'complete')
    await ndjson(conn, 'POST', svcPath(sp, '/ghost/stop'))
  })

  test('a failure after the headers streams error then complete (§1.4)', async () => {
    const sp = await newSprite('svcfail')
    const put = await ndjson(conn, 'PUT', svcPath(sp, '/web?duration=0'), sleeper('web'))
    assert.equal(put.status, 200, put.text)
    // The definitions directory becomes a file, so the next save fails inside the sprite.
    await sh(conn, sp, 'sudo rm -rf /.sprite/services && sudo touch /.sprite/services')
    const r = await ndjson(conn, 'POST', svcPath(sp, '/web/stop'))
    assert.equal(r.status, 200, r.text)
    assert.equal(r.contentType, 'application/x-ndjson')
    assert.ok(r.text.endsWith('\n'), r.text)
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['error', 'complete'],
      r.text,
    )
    assert.match(r.events[0]?.data ?? '', /could not save service web/)
    assert.equal(typeof r.events[0]?.timestamp, 'number')
    assert.equal((await getService(conn, sp, 'web')).state.status, 'running')
    await sh(conn, sp, 'sudo rm -f /.sprite/services')
    assert.deepEqual(
      (await ndjson(conn, 'POST', svcPath(sp, '/web/stop'))).events.map((e) => e.type).at(-1),
      'complete',
    )
  })

  test('log rotation at 10 MiB keeps every line', async () => {
    const sp = await newSprite('svclog')
    // 120 000 lines of 100 bytes (12 MB) as fast as python can print them.
    const script =
      'import sys\nfor i in range(120000): sys.stdout.write("%08d %s\\n" % (i, "x" * 90))\nsys.stdout.flush()\n'
    const r = await ndjson(conn, 'PUT', svcPath(sp, '/noisy?duration=0'), {
      cmd: 'sh',
      args: ['-c', 'python3 -c "$0" && exec sleep 1000', script],
    })
    assert.equal(r.status, 200)
    const count = async () => {
      const out = await sh(
        conn,
        sp,
        'cat /.sprite/logs/services/noisy.log.1 /.sprite/logs/services/noisy.log 2>/dev/null | grep -cE "\\[stdout\\] [0-9]{8} x" || true',
      )
      const n = Number(out.trim())
      return n >= 120_000 ? n : undefined
    }
    const n = await waitFor('all log lines', count, 30_000)
    assert.equal(n, 120_000)
    const sizes = await sh(
      conn,
      sp,
      'stat -c %s /.sprite/logs/services/noisy.log.1 /.sprite/logs/services/noisy.log',
    )
    const [rotated, current] = sizes.trim().split('\n').map(Number)
    assert.ok(rotated! <= 10 * 1024 * 1024 && rotated! > 9 * 1024 * 1024, sizes)
    assert.ok(current! > 0 && current! < 10 * 1024 * 1024, sizes)
    // V8 replays every line by default (both files), or the last N, in order.
    const numbers = (r: { events: Event[] }) =>
      r.events.filter((e) => e.type === 'stdout').map((e) => Number(e.data?.slice(0, 8)))
    const all = numbers(await ndjson(conn, 'GET', svcPath(sp, '/noisy/logs')))
    assert.equal(all.length, 120_000)
    assert.ok(
      all.every((n, i) => n === i),
      'every line once, in order',
    )
    const last = numbers(await ndjson(conn, 'GET', svcPath(sp, '/noisy/logs?lines=100000')))
    assert.deepEqual([last.length, last[0], last.at(-1)], [100_000, 20_000, 119_999])
    const few = numbers(await ndjson(conn, 'GET', svcPath(sp, '/noisy/logs?lines=3')))
    assert.deepEqual(few, [119_997, 119_998, 119_999])
    await ndjson(conn, 'POST', svcPath(sp, '/noisy/stop'))
  })

  test('a cold wake restarts services (new pid), keeps a stopped one stopped', async () => {
    const sp = await newSprite('svccold')
    assert.equal(
      (await ndjson(conn, 'PUT', svcPath(sp, '/up?duration=0'), sleeper('up'))).status,
      200,
    )
    assert.equal(
      (await ndjson(conn, 'PUT', svcPath(sp, '/down?duration=0'), sleeper('down'))).status,
      200,
    )
    assert.equal((await ndjson(conn, 'POST', svcPath(sp, '/down/stop'))).status, 200)
    const before = await getService(conn, sp, 'up')
    const marker = await sh(conn, sp, `cat /proc/${before.state.pid}/stat | cut -d' ' -f22`)
    // Every sprite is cold after a server restart.
    await srv.stop()
    srv = await startSpritesd()
    conn = { baseURL: srv.baseURL, token: srv.token }
    const up = await waitFor('up running', async () => {
      const s = await getService(conn, sp, 'up')
      return s.state.status === 'running' ? s : undefined
    })
    const now = await sh(conn, sp, `cat /proc/${up.state.pid}/stat | cut -d' ' -f22`)
    assert.notEqual(`${up.state.pid}:${now}`, `${before.state.pid}:${marker}`)
    assert.equal((await getService(conn, sp, 'down')).state.status, 'stopped')
    const logs = await ndjson(conn, 'GET', svcPath(sp, '/up/logs'))
    assert.ok(
      logs.events.filter((e) => e.type === 'stdout' && e.data === 'hello-up').length >= 2,
      logs.text,
    )
  })

  test('logs live outside the disk: a restore keeps them, the sprite cannot write them, delete removes them', async () => {
    const sp = await newSprite('svcrestore')
    const id = ((await api(conn, 'GET', `/v1/sprites/${sp}`)).json as { id: string }).id
    /** (Re)defines the service to print `word`, and waits until its log file shows it. */
    const say = async (word: string) => {
      const body = { cmd: 'sh', args: ['-c', `echo ${word}; exec sleep 1000`] }
      assert.equal((await ndjson(conn, 'PUT', svcPath(sp, '/talker?duration=0'), body)).status, 200)
      await waitFor(`the line ${word}`, async () =>
        (await sh(conn, sp, 'cat /.sprite/logs/services/talker.log')).includes(`] ${word}`)
          ? true
          : undefined,
      )
    }
    await say('first')
    const ck = await api(conn, 'POST', `/v1/sprites/${sp}/checkpoint`, {
      body: {},
      timeoutMs: 60_000,
    })
    assert.equal(ck.status, 200, ck.text)
    const ckID = (JSON.parse(ck.text.trim().split('\n').at(-1) as string) as { id: string }).id
    await say('second')

    const restore = await api(conn, 'POST', `/v1/sprites/${sp}/checkpoints/${ckID}/restore`, {
      timeoutMs: 60_000,
    })
    assert.equal(restore.status, 200, restore.text)
    // The restored definition prints `first` again; nothing of before the restore is gone.
    const words = async () => {
      const log = await sh(conn, sp, 'cat /.sprite/logs/services/talker.log')
      const w = [...log.matchAll(/\[stdout\] (first|second)$/gm)].map((m) => m[1])
      return w.length >= 3 ? w : undefined
    }
    assert.deepEqual(await waitFor('the restored service logging', words), [
      'first',
      'second',
      'first',
    ])
    const api3 = await ndjson(conn, 'GET', svcPath(sp, '/talker/logs'))
    assert.deepEqual(
      api3.events.filter((e) => e.type === 'stdout').map((e) => e.data),
      ['first', 'second', 'first'],
    )

    // Root inside (no CAP_SYS_ADMIN, host-root-owned files on a read-only bind) cannot change them.
    const tamper = await execWS(conn, sp, [
      'sudo',
      'sh',
      '-c',
      'echo forged >> /.sprite/logs/services/talker.log || rm -f /.sprite/logs/services/talker.log || umount /.sprite/logs',
    ])
    assert.notEqual(tamper.code, 0, tamper.stdout)
    assert.doesNotMatch(await sh(conn, sp, 'cat /.sprite/logs/services/talker.log'), /forged/)

    const hostLog = join(E2E_DATA_DIR, 'logs', id, 'services', 'talker.log')
    assert.match(readFileSync(hostLog, 'utf8'), /\[stdout\] second$/m)
    await deleteSprite(conn, sp)
    names.splice(names.indexOf(sp), 1)
    assert.equal(existsSync(join(E2E_DATA_DIR, 'logs', id)), false, 'logs go with the sprite')
  })
})
