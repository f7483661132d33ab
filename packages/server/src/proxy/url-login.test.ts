import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../config.ts'
import { isLoginPath, safeNext } from './url-login.ts'
import {
  SESSION_TTL_MS,
  sessionFromCookie,
  sessionSetCookie,
  URLSessions,
  withoutSessionCookie,
} from './url-sessions.ts'

test('sessions are bound to one sprite, org and token, and expire', () => {
  let now = 1_000
  const s = new URLSessions(() => now)
  const v = s.create('sprite-a', 'org1', 'tok1')
  assert.match(v, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(s.tokenOf(v, 'sprite-a', 'org1'), 'tok1')
  assert.equal(s.tokenOf(v, 'sprite-b', 'org1'), null)
  assert.equal(s.tokenOf(v, 'sprite-a', 'org2'), null)
  assert.equal(s.tokenOf('forged', 'sprite-a', 'org1'), null)
  now += SESSION_TTL_MS
  assert.equal(s.tokenOf(v, 'sprite-a', 'org1'), null)
  const w = s.create('sprite-a', 'org1', 'tok1')
  s.delete(w)
  assert.equal(s.tokenOf(w, 'sprite-a', 'org1'), null)
})

test('the session cookie is found, stripped from the rest and set host-only', () => {
  assert.equal(sessionFromCookie('a=1; sprite_session=xyz; b=2'), 'xyz')
  assert.equal(sessionFromCookie('a=1'), null)
  assert.equal(sessionFromCookie(undefined), null)
  assert.equal(withoutSessionCookie('a=1; sprite_session=xyz;b=2'), 'a=1; b=2')
  assert.equal(withoutSessionCookie('sprite_session=xyz'), null)
  assert.equal(
    sessionSetCookie('v', false, 60_000),
    'sprite_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax',
  )
  assert.match(sessionSetCookie('v', true), /; Secure$/)
  assert.doesNotMatch(sessionSetCookie('v', true), /Domain=/)
})

test('login redirects stay on the sprite host', () => {
  assert.equal(safeNext('/app?x=1'), '/app?x=1')
  assert.equal(safeNext('//evil.example/'), '/')
  assert.equal(safeNext('/\\evil.example/'), '/')
  assert.equal(safeNext('https://evil.example/'), '/')
  assert.equal(safeNext('/__sprite/login'), '/')
  assert.equal(safeNext(null), '/')
  assert.equal(isLoginPath('/__sprite/login?next=/'), true)
  assert.equal(isLoginPath('/__sprite/logout'), true)
  assert.equal(isLoginPath('/app'), false)
})

test('TLS settings: both files or neither, https sprite URLs on the TLS port', () => {
  const env = { HOME: '/home/tester' }
  const off = loadConfig(env, [])
  assert.equal(off.tls, null)
  const on = loadConfig(env, [
    '--tls-cert=/etc/c.pem',
    '--tls-key=/etc/k.pem',
    '--tls-listen=:8443',
  ])
  assert.deepEqual(on.tls, {
    certFile: '/etc/c.pem',
    keyFile: '/etc/k.pem',
    listen: { host: '127.0.0.1', port: 8443 },
  })
  assert.deepEqual(on.spriteURL, { scheme: 'https', port: 8443 })
  const dflt = loadConfig({ ...env, SPRITES_TLS_CERT: '/c', SPRITES_TLS_KEY: '/k' }, [])
  assert.deepEqual(dflt.tls?.listen, { host: '127.0.0.1', port: 7443 })
  assert.throws(() => loadConfig(env, ['--tls-cert=/etc/c.pem']), /both --tls-cert and --tls-key/)
})
