import assert from 'node:assert/strict'
import { test } from 'node:test'
import { POSTGRES_URL_RE, redactDatabaseURL } from './pg-url.ts'

test('redacts the password of the user-info part and of a password parameter', () => {
  assert.equal(
    redactDatabaseURL('postgres://app:s3cret@db:5432/sprites'),
    'postgres://app:***@db:5432/sprites',
  )
  assert.equal(
    redactDatabaseURL('postgresql://a:p/w:x@@h/d?sslmode=require'),
    'postgresql://a:***@h/d?sslmode=require',
  )
  assert.equal(
    redactDatabaseURL('postgres:///d?host=/run/pg&password=top&user=u'),
    'postgres:///d?host=/run/pg&password=***&user=u',
  )
  assert.equal(redactDatabaseURL('postgres://app@h/d'), 'postgres://app@h/d')
  assert.equal(redactDatabaseURL('postgres:///d?host=/tmp/a@b'), 'postgres:///d?host=/tmp/a@b')
  assert.equal(redactDatabaseURL('garbage:pw@x'), 'garbage:***@x')
})

test('takes postgres:// and postgresql:// only', () => {
  assert.ok(POSTGRES_URL_RE.test('postgres://h/d'))
  assert.ok(POSTGRES_URL_RE.test('PostgreSQL:///d?host=/s'))
  assert.ok(!POSTGRES_URL_RE.test('mysql://h/d'))
  assert.ok(!POSTGRES_URL_RE.test('postgres:/h/d'))
})
