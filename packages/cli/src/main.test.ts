import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startFakeAPI, testIO } from '../test/fake-api.ts'
import { main } from './main.ts'

async function setup(t: TestContext) {
  const api = await startFakeAPI()
  const dir = mkdtempSync(join(tmpdir(), 'sprite-main-'))
  t.after(async () => {
    await api.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { SPRITES_API_URL: api.baseURL, SPRITE_TOKEN: 'personal/abcde/t1/secret' }
  const run = async (argv: string[], input?: string) => {
    const io = testIO({ env, cwd: dir, home: dir, input })
    const code = await main(argv, io)
    return { code, out: io.out(), err: io.errText() }
  }
  return { api, dir, run }
}

test('create, list, destroy --force', async (t) => {
  const { api, run } = await setup(t)
  assert.deepEqual(await run(['create', 'box', '--skip-console', '--label', 'dev']), {
    code: 0,
    out: 'Created sprite box\n',
    err: '',
  })
  assert.deepEqual(api.sprites.get('box')?.labels, ['dev'])
  await run(['create', 'cat', '--skip-console'])
  assert.equal((await run(['list'])).out, 'box\ncat\n')
  assert.equal((await run(['ls', '--prefix', 'c'])).out, 'cat\n')
  assert.equal((await run(['destroy', 'box', '--force'])).code, 0)
  assert.deepEqual([...api.sprites.keys()], ['cat'])
})

test('destroy without a terminal and without --force refuses', async (t) => {
  const { api, run } = await setup(t)
  api.sprites.set('box', { name: 'box' })
  const r = await run(['destroy', 'box'])
  assert.equal(r.code, 1)
  assert.match(r.err, /^error: refusing to destroy box without confirmation: pass --force\n$/)
  assert.ok(api.sprites.has('box'))
})

test('server errors print one line and exit 1', async (t) => {
  const { run } = await setup(t)
  assert.deepEqual(await run(['info', '-s', 'nope']), {
    code: 1,
    out: '',
    err: 'error: sprite not found: nope\n',
  })
})

test('usage errors exit 2', async (t) => {
  const { run } = await setup(t)
  const r = await run(['frobnicate'])
  assert.equal(r.code, 2)
  assert.match(r.err, /^error: unknown command "frobnicate"/)
  assert.equal((await run(['list', '--bogus'])).code, 2)
})

test('exec passes the remote exit code through and writes stdout/stderr', async (t) => {
  const { api, run } = await setup(t)
  api.sprites.set('box', { name: 'box' })
  const r = await run(['exec', '-s', 'box', '--', 'sh', '-c', 'exit 7'])
  assert.deepEqual(r, { code: 7, out: '', err: 'to stderr' })
  const echo = await run(['-s', 'box', 'exec', 'echo', 'hi', 'there'])
  assert.equal(echo.out, 'hi there\n')
  assert.equal(echo.code, 0)
})

test('exec pipes non-TTY stdin and sends EOF', async (t) => {
  const { api, run } = await setup(t)
  api.sprites.set('box', { name: 'box' })
  const r = await run(['exec', '-s', 'box', '--', 'cat'], 'piped input')
  assert.deepEqual([r.code, r.out], [0, 'piped input'])
  assert.match(api.log.at(-1) ?? '', /stdin=true/)
})

test('use writes .sprite, later commands pick it up, --unset removes it', async (t) => {
  const { api, dir, run } = await setup(t)
  api.sprites.set('box', { name: 'box' })
  assert.equal((await run(['use', 'box'])).code, 0)
  assert.deepEqual(JSON.parse(readFileSync(join(dir, '.sprite'), 'utf8')), {
    organization: 'personal',
    sprite: 'box',
  })
  assert.equal((await run(['exec', 'sh', '-c', 'exit 3'])).code, 3)
  await run(['use', '--unset'])
  assert.equal(existsSync(join(dir, '.sprite')), false)
})

test('auth setup stores the token and selects it', async (t) => {
  const { dir } = await setup(t)
  const io = testIO({ env: {}, cwd: dir, home: dir })
  assert.equal(
    await main(['auth', 'setup', '--token', 'acme/abcde/t1/s', '--url', 'http://h:1/'], io),
    0,
  )
  const file = JSON.parse(readFileSync(join(dir, '.sprites', 'sprites.json'), 'utf8'))
  assert.deepEqual(file.current_selection, { url: 'http://h:1', org: 'acme' })
  assert.equal(file.urls['http://h:1'].orgs.acme.token, 'acme/abcde/t1/s')
  assert.equal(file.urls['http://h:1'].orgs.acme.use_keyring, false)
  const bad = testIO({ env: {}, cwd: dir, home: dir })
  assert.equal(await main(['auth', 'setup', '--token', 'nope'], bad), 2)
})

test('login reads the token from non-interactive stdin', async (t) => {
  const { dir } = await setup(t)
  const io = testIO({ env: {}, cwd: dir, home: dir, input: 'acme/abcde/t1/s\n' })
  assert.equal(await main(['login', 'http://h:2'], io), 0)
  const list = testIO({ env: {}, cwd: dir, home: dir })
  await main(['org', 'list'], list)
  assert.equal(list.out(), '* acme\thttp://h:2\n')
})

test('without a token the error says how to log in', async (t) => {
  const { dir } = await setup(t)
  const io = testIO({ env: { SPRITES_API_URL: 'http://h:3' }, cwd: dir, home: dir })
  assert.equal(await main(['list'], io), 1)
  assert.match(io.errText(), /^error: not logged in to http:\/\/h:3: run `sprite auth setup/)
})
