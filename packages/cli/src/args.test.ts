import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseEnvList, splitArgv } from './args.ts'
import { parseCommandLine } from './parse-command-line.ts'

test('global flags are taken from anywhere before --', () => {
  const r = splitArgv([
    'list',
    '-o',
    'acme',
    '--prefix',
    'a',
    '--sprite=box',
    '--debug',
    '--',
    '-o',
    'x',
  ])
  assert.deepEqual(r.globals, {
    org: 'acme',
    sprite: 'box',
    help: false,
    debug: true,
    version: false,
  })
  assert.deepEqual(r.rest, ['list', '--prefix', 'a'])
  assert.deepEqual(r.afterDashDash, ['-o', 'x'])
})

test('a global flag without a value is a usage error', () => {
  assert.throws(() => splitArgv(['list', '-s']), { details: { usage: true } })
})

test('exec: flags before the command, the remote argv untouched after --', () => {
  const inv = parseCommandLine([
    'exec',
    '--tty',
    '-s',
    'box',
    '--env',
    'A=1',
    '--',
    'ls',
    '-la',
    '--tty',
  ])
  assert.equal(inv.name, 'exec')
  assert.equal(inv.globals.sprite, 'box')
  assert.equal(inv.args.values.tty, true)
  assert.deepEqual(inv.args.values.env, ['A=1'])
  assert.deepEqual(inv.args.argv, ['ls', '-la', '--tty'])
})

test('exec without --: the first positional starts the remote command', () => {
  const inv = parseCommandLine(['x', '--dir', '/tmp', 'ls', '-la'])
  assert.equal(inv.name, 'exec')
  assert.equal(inv.args.values.dir, '/tmp')
  assert.deepEqual(inv.args.argv, ['ls', '-la'])
})

test('two-word commands and aliases', () => {
  assert.equal(parseCommandLine(['s', 'ls']).name, 'sessions list')
  assert.equal(
    parseCommandLine(['sessions', 'kill', '4', '--signal', 'INT']).args.positionals[0],
    '4',
  )
  assert.equal(parseCommandLine(['orgs', 'list']).name, 'org list')
  assert.equal(parseCommandLine(['ls', '--prefix', 'a']).name, 'list')
  assert.equal(parseCommandLine(['destroy', 'box', '--force']).args.positionals[0], 'box')
  assert.equal(parseCommandLine(['--version']).name, 'version')
})

test('unknown commands and flags are usage errors', () => {
  assert.throws(() => parseCommandLine(['frobnicate']), {
    details: { usage: true },
    message: /unknown command/,
  })
  assert.throws(() => parseCommandLine(['list', '--nope']), { details: { usage: true } })
})

test('--env splits on commas, keeping commas inside values', () => {
  assert.deepEqual(parseEnvList(['A=1,B=2', 'C=x,y,D=']), { A: '1', B: '2', C: 'x,y', D: '' })
  assert.throws(() => parseEnvList(['oops']), { details: { usage: true } })
})
