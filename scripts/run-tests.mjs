#!/usr/bin/env node
// Collects test files per tier and runs them with node:test, loading TypeScript through tsx.
// Usage: node scripts/run-tests.mjs unit|integration|e2e|all [filter]
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const [tier = 'all', filter] = process.argv.slice(2)
const root = new URL('..', import.meta.url).pathname

function collect(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'))
    .map((f) => join(dir, f))
    .sort()
}
const packages = readdirSync(join(root, 'packages'))
const tiers = {
  unit: packages.flatMap((p) => collect(join(root, 'packages', p, 'src'))),
  integration: packages.flatMap((p) => collect(join(root, 'packages', p, 'test'))),
  e2e: collect(join(root, 'test', 'e2e')),
}
const order = tier === 'all' ? ['unit', 'integration', 'e2e'] : [tier]
if (!order.every((t) => t in tiers)) {
  console.error(`unknown tier ${tier}: use unit, integration, e2e or all`)
  process.exit(2)
}
const files = order.flatMap((t) => tiers[t]).filter((f) => !filter || f.includes(filter))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// Integration and e2e tests start real sprites on a 2-core machine: one file at a time.
const concurrency = order.length === 1 && order[0] === 'unit' ? 4 : 1
const args = [
  '--conditions=@sprites/source',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec',
  ...files,
]
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root })
if (order.includes('e2e')) releaseE2EInstance()
process.exit(r.status ?? 1)

// The e2e files of one run share a spritesd data dir, so its pool stays mounted between them;
// once they are done, the pool, its loop device and the router namespace are released.
function releaseE2EInstance() {
  const instance = process.env.SPRITES_E2E_INSTANCE ?? 'e2e'
  const pool = `/var/tmp/sprites-${instance}/pool`
  const quiet = { stdio: 'ignore' }
  if (spawnSync('mountpoint', ['-q', pool], quiet).status === 0) spawnSync('umount', [pool], quiet)
  const loops = spawnSync('losetup', ['-j', `${pool}.img`], { encoding: 'utf8' }).stdout ?? ''
  for (const line of loops.split('\n').filter(Boolean)) {
    spawnSync('losetup', ['-d', line.split(':')[0]], quiet)
  }
  spawnSync('ip', ['netns', 'del', `sprites-${instance}-rt`], quiet)
}
