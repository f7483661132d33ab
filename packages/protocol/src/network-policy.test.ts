import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSpritesError } from './errors.ts'
import {
  DEFAULT_ALLOWED_DOMAINS,
  decideName,
  expandNetworkRules,
  isDomainPattern,
  parseNetworkPolicy,
} from './network-policy.ts'

function rejects(body: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseNetworkPolicy(body),
    (e: unknown) => isSpritesError(e) && e.code === 'invalid_argument' && pattern.test(e.message),
  )
}

test('valid policies parse to exactly what was given', () => {
  const body = {
    rules: [
      { domain: 'example.com', action: 'allow' },
      { domain: '*.example.org', action: 'deny' },
      { domain: '*', action: 'deny' },
      { include: 'defaults' },
    ],
  }
  assert.deepEqual(parseNetworkPolicy(body), body)
  assert.deepEqual(parseNetworkPolicy({ rules: [] }), { rules: [] })
})

test('invalid policies name the rule and the rule broken', () => {
  rejects(null, /object/)
  rejects([], /object/)
  rejects({}, /"rules" must be an array/)
  rejects({ rules: 'x' }, /"rules" must be an array/)
  rejects({ rules: [1] }, /rule 0 must be an object/)
  rejects({ rules: [{}] }, /rule 0 needs exactly one of/)
  rejects({ rules: [{ domain: 'a.com', action: 'allow', include: 'defaults' }] }, /exactly one/)
  rejects({ rules: [{ domain: 'a.com' }] }, /"action" must be "allow" or "deny"/)
  rejects({ rules: [{ domain: 'a.com', action: 'block' }] }, /"action" must be/)
  rejects({ rules: [{ include: 'everything' }] }, /"include" can only be "defaults"/)
  rejects({ rules: [{ include: 'defaults', action: 'allow' }] }, /"action" goes with "domain"/)
  assert.deepEqual(
    parseNetworkPolicy({ rules: [{ domain: 'a.com', action: 'allow', port: 1 }], x: 1 }),
    {
      rules: [{ domain: 'a.com', action: 'allow' }],
    },
    'unknown fields are ignored (§1.1)',
  )
  for (const bad of [
    '',
    'a..com',
    '-a.com',
    'a-.com',
    'a.*.com',
    '**',
    '*.',
    'http://a.com',
    'a com',
    'x'.repeat(64),
  ]) {
    rejects(
      {
        rules: [
          { domain: 'ok.com', action: 'allow' },
          { domain: bad, action: 'allow' },
        ],
      },
      /rule 1: domain/,
    )
  }
  rejects({ rules: Array.from({ length: 1001 }, () => ({ include: 'defaults' })) }, /at most 1000/)
})

test('domain patterns: host.name, *.host.name, *', () => {
  for (const ok of [
    'a.com',
    'A.Example.COM',
    '*.a.com',
    '*',
    'localhost',
    'xn--bcher-kva.example',
    '_dmarc.a.com',
  ]) {
    assert.ok(isDomainPattern(ok), ok)
  }
})

test('matching: exact beats the longest suffix beats *; deny wins a tie; unmatched is denied', () => {
  const rules = expandNetworkRules([
    { domain: '*.example.com', action: 'allow' },
    { domain: 'bad.example.com', action: 'deny' },
    { domain: '*.corp.example.com', action: 'deny' },
    { domain: 'ok.corp.example.com', action: 'allow' },
    { domain: 'tie.test', action: 'allow' },
    { domain: 'tie.test', action: 'deny' },
  ])
  assert.equal(decideName(rules, 'www.example.com'), 'allow')
  assert.equal(decideName(rules, 'a.b.c.example.com'), 'allow')
  assert.equal(decideName(rules, 'example.com'), 'deny', '*. does not cover the apex')
  assert.equal(decideName(rules, 'bad.example.com'), 'deny')
  assert.equal(decideName(rules, 'x.corp.example.com'), 'deny', 'longer suffix wins')
  assert.equal(decideName(rules, 'OK.corp.example.com.'), 'allow', 'case and trailing dot')
  assert.equal(decideName(rules, 'tie.test'), 'deny')
  assert.equal(decideName(rules, 'elsewhere.org'), 'deny', 'allowlist: unmatched is denied')
  const star = expandNetworkRules([
    { domain: '*', action: 'allow' },
    { domain: '*.blocked.test', action: 'deny' },
  ])
  assert.equal(decideName(star, 'anything.org'), 'allow')
  assert.equal(decideName(star, 'x.blocked.test'), 'deny')
  assert.equal(decideName([], 'anything.org'), 'allow', 'no rules: no enforcement')
})

test('defaults expand in place to allow rules, with the server host added', () => {
  const rules = expandNetworkRules(
    [{ include: 'defaults' }, { domain: 'github.com', action: 'deny' }],
    ['api.sprites.test'],
  )
  assert.equal(rules.length, DEFAULT_ALLOWED_DOMAINS.length + 2)
  assert.equal(decideName(rules, 'registry.npmjs.org'), 'allow')
  assert.equal(decideName(rules, 'raw.githubusercontent.com'), 'allow')
  assert.equal(decideName(rules, 'files.pythonhosted.org'), 'allow')
  assert.equal(decideName(rules, 'api.anthropic.com'), 'allow')
  assert.equal(decideName(rules, 'api.sprites.test'), 'allow')
  assert.equal(
    decideName(rules, 'github.com'),
    'deny',
    'an explicit deny ties with the default allow and wins',
  )
  assert.equal(decideName(rules, 'evil.example'), 'deny')
})
