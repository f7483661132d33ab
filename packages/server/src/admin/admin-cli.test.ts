import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createMemoryStore } from '@sprites/store'
import { runAdmin, splitAdminArgs } from './admin-cli.ts'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } }
}

const run = (store: ReturnType<typeof createMemoryStore>, argv: string[]) => {
  const [noun = '', ...rest] = argv
  const o = io()
  return runAdmin(store, noun, splitAdminArgs(rest), o.io).then((code) => ({ code, ...o }))
}

test('admin flags are split from the server config flags', () => {
  const a = splitAdminArgs(['create', '--org', 'acme', '--data-dir', '/x', '--description=ci'])
  assert.deepEqual(a.positionals, ['create'])
  assert.equal(a.org, 'acme')
  assert.equal(a.description, 'ci')
  assert.deepEqual(a.rest, ['--data-dir', '/x'])
})

test('org create issues a working token for the new org; lists show both', async () => {
  const store = createMemoryStore()
  const created = await run(store, ['org', 'create', 'acme'])
  assert.equal(created.code, 0, created.err.join('\n'))
  const token = created.out[0] ?? ''
  const resolved = await store.resolveToken(token)
  assert.equal(resolved?.org.slug, 'acme')
  const orgs = await run(store, ['org', 'list'])
  assert.match(orgs.out.join('\n'), /^SLUG\s+ID\s+CREATED\nacme\s+[a-z0-9]{5}\s+\d{4}-/)
  const more = await run(store, ['token', 'create', '--org', 'acme', '--description', 'ci bot'])
  assert.equal(more.code, 0)
  const list = await run(store, ['token', 'list', '--org', 'acme'])
  assert.equal(list.out.length, 3, list.out.join('\n'))
  assert.match(list.out.join('\n'), /ci bot/)
})

test('revoke ends a token; unknown ids, orgs and verbs are clear errors', async () => {
  const store = createMemoryStore()
  const { out } = await run(store, ['org', 'create', 'acme'])
  const token = out[0] ?? ''
  const id = (await store.resolveToken(token))?.token.id ?? ''
  const revoked = await run(store, ['token', 'revoke', id])
  assert.equal(revoked.code, 0, revoked.err.join('\n'))
  assert.equal(await store.resolveToken(token), null)
  const again = await run(store, ['token', 'revoke', id])
  assert.equal(again.code, 1)
  assert.match(again.err.join(''), /no token "tok[0-9a-f]+"/)
  const noOrg = await run(store, ['token', 'create', '--org', 'nope'])
  assert.equal(noOrg.code, 1)
  assert.match(noOrg.err.join(''), /no org "nope"/)
  const badSlug = await run(store, ['org', 'create', 'Bad Slug'])
  assert.equal(badSlug.code, 1)
  assert.match(badSlug.err.join(''), /invalid org slug/)
  const dup = await run(store, ['org', 'create', 'acme'])
  assert.equal(dup.code, 1)
  const usage = await run(store, ['token', 'frobnicate'])
  assert.equal(usage.code, 2)
  assert.match(usage.err.join(''), /usage:/)
})
