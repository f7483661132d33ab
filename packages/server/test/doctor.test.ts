import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { formatChecks, runDoctor } from '../src/host/doctor.ts'

const isRoot = process.getuid?.() === 0
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

test('every required check passes on this host', {
  skip: isRoot ? false : 'needs root',
}, async () => {
  const checks = await runDoctor({ dataDir: '/var/tmp' })
  const failed = checks.filter((c) => c.required && !c.ok)
  assert.deepEqual(failed, [], formatChecks(failed))
  assert.ok(checks.some((c) => c.name === 'cgroups' && /layout (v2|v1\/hybrid)/.test(c.detail)))
})

test('a failed check is printed with its exact fix', () => {
  const text = formatChecks([
    {
      name: 'nftables',
      ok: false,
      detail: 'nft not found in PATH',
      fix: 'apt-get install nftables',
      required: true,
    },
    { name: 'free disk', ok: false, detail: '1.0 GiB free', fix: 'free space', required: false },
    { name: 'root', ok: true, detail: 'running as root', required: true },
  ])
  assert.equal(
    text,
    [
      '[FAIL] nftables: nft not found in PATH',
      '      fix: apt-get install nftables',
      '[warn] free disk: 1.0 GiB free',
      '      fix: free space',
      '[ok  ] root: running as root',
    ].join('\n'),
  )
})

test('spritesd refuses to start sprites on a host that fails a required check', {
  skip: isRoot ? false : 'needs root to drop to an unprivileged user',
}, () => {
  const r = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '--conditions=@sprites/source',
      '--import',
      'tsx',
      MAIN,
      'serve',
    ],
    {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      env: {
        PATH: process.env.PATH,
        HOME: '/tmp',
        SPRITES_DATA_DIR: '/var/tmp/sprites-doctor-test',
      },
    },
  )
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /spritesd cannot run sprites on this host/)
  assert.match(r.stderr, /\[FAIL\] root: running as uid 65534\n\s+fix: run spritesd as root/)
})
