import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { sendJSON, startFakeServer } from '../test/fake-server.ts'
import { SpritesClient } from './client.ts'
import { fsErrorCode, modeToWire } from './filesystem.ts'

async function setup(t: TestContext, http: Parameters<typeof startFakeServer>[0]['http']) {
  const server = await startFakeServer({ http })
  t.after(() => server.close())
  const client = new SpritesClient({ baseURL: server.baseURL, token: 'personal/abcde/t1/s' })
  return { server, fs: client.filesystem('box') }
}

test('writeFile sends raw bytes with the mode as 4 octal digits (F2)', async (t) => {
  const { server, fs } = await setup(t, (req, res) =>
    sendJSON(res, 200, { path: '/home/sprite/a.bin', size: req.body.length, mode: '0755' }),
  )
  const data = Buffer.from([0, 255, 10, 13, 0])
  const r = await fs.writeFile('a.bin', data, { mode: 0o755 })
  assert.deepEqual(r, { path: '/home/sprite/a.bin', size: 5, mode: 0o755 })
  const req = server.requests[0]
  assert.equal(req?.method, 'PUT')
  assert.equal(req?.url.pathname, '/v1/sprites/box/fs/write')
  assert.equal(req?.url.searchParams.get('path'), 'a.bin')
  assert.equal(req?.url.searchParams.get('mode'), '0755')
  assert.equal(req?.url.searchParams.has('workingDir'), false)
  assert.deepEqual(req?.body, data)
  assert.equal(modeToWire(0o100644), '0644')
})

test('readFile returns the bytes; errors keep their errno name', async (t) => {
  const { fs } = await setup(t, (req, res) => {
    if (req.url.searchParams.get('path') === 'gone') {
      sendJSON(res, 404, { error: 'no such file', code: 'ENOENT', path: '/home/sprite/gone' })
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([1, 2, 0]))
  })
  assert.deepEqual(await fs.readFile('x'), Buffer.from([1, 2, 0]))
  const err = await fs.readFile('gone').catch((e: unknown) => e)
  assert.equal(fsErrorCode(err), 'ENOENT')
  assert.match((err as Error).message, /no such file/)
})

test('stat: a file is its own entry; a directory lists its children (D25)', async (t) => {
  const entry = (path: string, type = 'file') => ({
    name: path.split('/').pop(),
    path,
    type,
    size: 3,
    mode: '0640',
    modTime: '2026-01-01T00:00:00Z',
    isDir: type === 'directory',
  })
  const { fs } = await setup(t, (req, res) => {
    const p = req.url.searchParams.get('path')
    const entries = p === '/f' ? [entry('/f')] : [entry('/d/only')]
    sendJSON(res, 200, { path: p, entries, count: entries.length })
  })
  const f = await fs.stat('/f')
  assert.deepEqual([f.type, f.mode, f.size, f.isDir], ['file', 0o640, 3, false])
  const d = await fs.stat('/d')
  assert.deepEqual([d.type, d.path, d.name, d.isDir], ['directory', '/d', 'd', true])
})
