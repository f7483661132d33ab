import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseCommandLine } from '../../parse-command-line.ts'
import { curlArgs, resolveAPIPath } from './api.ts'

test('api paths: /v1/... as is, else under the sprite with -s, else under /v1/', () => {
  assert.equal(resolveAPIPath('/v1/sprites/a/exec', 'box'), '/v1/sprites/a/exec')
  assert.equal(resolveAPIPath('/v1/organization'), '/v1/organization')
  assert.equal(resolveAPIPath('/v1'), '/v1')
  assert.equal(resolveAPIPath('exec', 'box'), '/v1/sprites/box/exec')
  assert.equal(resolveAPIPath('/fs/list?path=/tmp', 'box'), '/v1/sprites/box/fs/list?path=/tmp')
  assert.equal(resolveAPIPath('/', 'box'), '/v1/sprites/box')
  assert.equal(resolveAPIPath('?x=1', 'box'), '/v1/sprites/box?x=1')
  assert.equal(resolveAPIPath('organization'), '/v1/organization')
  assert.equal(resolveAPIPath('/sprites?prefix=a'), '/v1/sprites?prefix=a')
  assert.equal(resolveAPIPath('/v10/x'), '/v1/v10/x')
})

test('curl gets the header from a file, the user options, then the URL; never the token', () => {
  const args = curlArgs('http://h/v1/organization', ['-X', 'POST', '-s'], '/tmp/d/header')
  assert.deepEqual(args, [
    '--globoff',
    '--header',
    '@/tmp/d/header',
    '-X',
    'POST',
    '-s',
    'http://h/v1/organization',
  ])
})

test('sprite api <path> -- <curl options>: curl options may look like global flags', () => {
  const inv = parseCommandLine(['api', '-s', 'box', 'exec', '--', '-s', '-o', 'out.json'])
  assert.equal(inv.name, 'api')
  assert.equal(inv.globals.sprite, 'box')
  assert.equal(inv.globals.org, undefined)
  assert.deepEqual(inv.args.positionals, ['exec', '-s', '-o', 'out.json'])
})
