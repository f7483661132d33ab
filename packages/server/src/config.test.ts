import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from './config.ts'
import { OPTIONS } from './config-options.ts'

const HOME = { HOME: '/home/tester' }

test('defaults', () => {
  const c = loadConfig(HOME, [])
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 7470 })
  assert.equal(c.dataDir, '/var/lib/sprites')
  assert.equal(c.runDir, '/run/sprites')
  assert.equal(c.cacheDir, '/var/cache/sprites')
  assert.equal(c.dbPath, '/var/lib/sprites/sprites.db')
  assert.equal(c.baseDomain, 'sprites.localhost')
  assert.equal(c.publicURL, 'http://127.0.0.1:7470')
  assert.deepEqual(c.spriteURL, { scheme: 'http', port: 7470 })
  assert.equal(c.spriteVersionHeader, '0.0.1-rc46')
  assert.equal(c.region, 'local')
  assert.deepEqual(c.spriteDefaults, { cpus: 2, ramMB: 2048, storageGB: 10 })
  assert.equal(c.maxBodyBytes, 1048576)
  assert.equal(c.logLevel, 'info')
  assert.equal(c.cliConfigPath, '/home/tester/.sprites/sprites.json')
  assert.equal(c.cliConfigOwner, null)
  assert.equal(c.network.mode, 'router')
  assert.equal(c.shutdownTimeoutMs, 10_000)
})

test('derives https sprite URLs for a real domain', () => {
  const c = loadConfig({ ...HOME, SPRITES_BASE_DOMAIN: 'sprites.example.com' }, [
    '--public-url=https://api.example.com/',
  ])
  assert.deepEqual(c.spriteURL, { scheme: 'https', port: null })
  assert.equal(c.publicURL, 'https://api.example.com')
})

test('parses listen forms', () => {
  assert.deepEqual(loadConfig(HOME, ['--listen', ':8081']).listen, {
    host: '127.0.0.1',
    port: 8081,
  })
  assert.deepEqual(loadConfig(HOME, ['--listen', '[::1]:80']).listen, { host: '::1', port: 80 })
  assert.equal(loadConfig(HOME, ['--listen', '[::1]:80']).publicURL, 'http://[::1]:80')
})

test('uses the sudo user for the CLI config', () => {
  const c = loadConfig(
    { HOME: '/root', SUDO_USER: 'nobody-here-x', SUDO_UID: '1234', SUDO_GID: '99' },
    [],
  )
  assert.equal(c.cliConfigPath, '/home/nobody-here-x/.sprites/sprites.json')
  assert.deepEqual(c.cliConfigOwner, { uid: 1234, gid: 99 })
})

test('collects every problem into one invalid_argument', () => {
  const env = {
    ...HOME,
    SPRITES_LISTEN: 'nope',
    SPRITES_LOG_LEVEL: 'loud',
    SPRITES_DEFAULT_CPUS: '0',
  }
  assert.throws(
    () => loadConfig(env, ['--data-dir', 'relative', '--network-mode', 'bridge']),
    (err: Error & { code?: string; details?: { problems?: string[] } }) => {
      assert.equal(err.code, 'invalid_argument')
      const problems = err.details?.problems ?? []
      assert.equal(problems.length, 5, problems.join('\n'))
      assert.match(err.message, /SPRITES_LISTEN/)
      assert.match(err.message, /--network-mode: must be one of router, host/)
      return true
    },
  )
})

test('rejects unknown flags and unreadable config files', () => {
  assert.throws(() => loadConfig(HOME, ['--bogus', '1']), /bogus/)
  assert.throws(
    () => loadConfig({ ...HOME, SPRITES_CONFIG: '/nonexistent/x.json' }, []),
    /cannot read config file/,
  )
})

test('the result is deep-frozen', () => {
  const c = loadConfig(HOME, [])
  assert.ok(Object.isFrozen(c))
  assert.ok(Object.isFrozen(c.listen))
  assert.ok(Object.isFrozen(c.spriteDefaults))
})

test('dns upstreams: comma-separated IPs from flag or env, an array in the file', () => {
  const c = loadConfig({ ...HOME, SPRITES_DNS_UPSTREAM: '198.18.0.1, 2001:db8::53' }, [])
  assert.deepEqual(c.network.dnsUpstreams, ['198.18.0.1', '2001:db8::53'])
  assert.throws(
    () => loadConfig(HOME, ['--dns-upstream', '198.18.0.1,resolver.example']),
    /--dns-upstream: must be IP addresses separated by commas/,
  )
  assert.ok(
    loadConfig(HOME, []).network.dnsUpstreams.every((a) => !/^127\.|^::1$/.test(a)),
    'the default never uses a loopback stub',
  )
})

test('database URL: null by default; postgres:// or postgresql:// from flag, env or file', () => {
  assert.equal(loadConfig(HOME, []).databaseURL, null)
  const url = 'postgres:///sprites?host=/run/postgresql&user=sprites'
  assert.equal(loadConfig({ ...HOME, SPRITES_DATABASE_URL: url }, []).databaseURL, url)
  const flag = 'postgresql://sprites@db.example.com:5433/sprites'
  assert.equal(loadConfig(HOME, ['--database-url', flag]).databaseURL, flag)
  const spec = OPTIONS.find((o) => o.key === 'databaseURL')
  assert.deepEqual(
    [spec?.flag, spec?.env, spec?.file],
    ['database-url', 'SPRITES_DATABASE_URL', ['databaseURL']],
  )
})

test('database URL: another scheme is refused without echoing the value', () => {
  const secret = 'mysql://app:hunter2-secret@db/sprites'
  assert.throws(
    () => loadConfig({ ...HOME, SPRITES_DATABASE_URL: secret }, []),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'invalid_argument')
      assert.match(
        err.message,
        /SPRITES_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
      )
      assert.match(err.message, /got a mysql: URL/)
      assert.doesNotMatch(err.message, /hunter2/)
      return true
    },
  )
  assert.throws(
    () => loadConfig(HOME, ['--database-url', 'postgres://a:pw with space@h/d']),
    (err: Error) => !err.message.includes('pw with space'),
  )
})
