// A sprite's network: netns + veth pair + addresses + default route, set up as spritesd does
// (host-notes §3.5), between namespaces this probe creates, so the root netns is never touched.
import { performance } from 'node:perf_hooks'
import type { Probe } from './probe.ts'
import { mustRun, tryRun } from './proc.ts'

function subnet(i: number): { host: string; sprite: string } {
  const base = `10.${201 + Math.floor(i / 64)}.${(i % 64) * 4}`
  return { host: `${base}.1`, sprite: `${base}.2` }
}

async function setUp(router: string, ns: string, veth: string, i: number): Promise<void> {
  const { host, sprite } = subnet(i)
  await mustRun('ip', ['netns', 'add', ns])
  await mustRun('ip', [
    ...['-n', router, 'link', 'add', veth, 'type', 'veth'],
    ...['peer', 'name', 'eth0', 'netns', ns],
  ])
  await mustRun('ip', ['-n', router, '-batch', '-'], {
    input: `addr add ${host}/30 dev ${veth}\nlink set ${veth} up\n`,
  })
  await mustRun('ip', ['-n', ns, '-batch', '-'], {
    input: [
      `addr add ${sprite}/30 dev eth0`,
      'link set eth0 up',
      'link set lo up',
      `route add default via ${host}`,
      '',
    ].join('\n'),
  })
}

/** Times setup (4 process starts) and teardown (`ip netns del`) of one sprite network. */
export async function createNetnsProbe(): Promise<Probe> {
  const prefix = `sprites-bench-${process.pid}`
  const router = `${prefix}-rt`
  const live = new Set<string>()
  await mustRun('ip', ['netns', 'add', router])
  live.add(router)
  return {
    rows: [
      { key: 'netns_setup', label: 'netns + veth setup (batched ip)' },
      { key: 'netns_teardown', label: 'netns teardown (ip netns del)' },
    ],
    async measure(i) {
      const ns = `${prefix}-${i}`
      const t0 = performance.now()
      live.add(ns)
      await setUp(router, ns, `vh-sb${i}`, i)
      const t1 = performance.now()
      await mustRun('ip', ['netns', 'del', ns])
      live.delete(ns)
      return { netns_setup: t1 - t0, netns_teardown: performance.now() - t1 }
    },
    async cleanup() {
      for (const ns of [...live].reverse()) {
        if (await tryRun('ip', ['netns', 'del', ns])) live.delete(ns)
      }
    },
  }
}
