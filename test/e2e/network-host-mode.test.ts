// `host` network mode (production: the sprites' veths, forwarding, nftables and the resolver live
// in spritesd's own network namespace). Tests must never change the machine's root namespace,
// so spritesd runs here under `nsenter --net` in a namespace the test creates, which plays the
// host, with the egress test's stand-in internet behind it. The API is reached from inside that
// namespace too (host-mode-client.ts). The root namespace is compared before and after.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  ALLOWED_IP,
  type EgressUpstream,
  PRIVATE_IP,
  RAW_IP,
  run,
  startEgressUpstream,
  UPSTREAM_DNS,
} from './egress-upstream.ts'
import { INSTANCE, instanceDirs, tsArgs } from './harness.ts'

const isRoot = process.getuid?.() === 0
const HOST_NS = `${INSTANCE.slice(0, 16)}-hostns`
const UP_NS = `${INSTANCE.slice(0, 16)}-hostup`
const PORT = 7480
const dirs = instanceDirs(INSTANCE)

/** What host mode could touch in the machine's own namespace. */
function rootNamespaceState(): string {
  const out = (file: string, args: string[]) =>
    spawnSync(file, args, { encoding: 'utf8' }).stdout ?? ''
  return [
    readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
    out('nft', ['list', 'ruleset']),
    out('ip', ['-o', 'link', 'show']).replace(/ state \S+|qlen \d+|link\/\S+ \S+ brd \S+/g, ''),
    out('ip', ['-4', 'route', 'show']),
    out('ip', ['-o', '-4', 'addr', 'show']),
  ].join('\n--\n')
}

describe('host network mode, inside a namespace the test owns', {
  skip: isRoot ? false : 'needs root to run sprites',
  timeout: 240_000,
}, () => {
  let upstream: EgressUpstream | undefined
  let spritesd: ChildProcess | undefined
  let home = ''
  let output = ''
  let rootBefore = ''

  before(async () => {
    rootBefore = rootNamespaceState()
    if (existsSync(`/run/netns/${HOST_NS}`)) run('ip', ['netns', 'del', HOST_NS])
    run('ip', ['netns', 'add', HOST_NS])
    run('ip', ['-n', HOST_NS, 'link', 'set', 'lo', 'up'])
    upstream = await startEgressUpstream(HOST_NS, UP_NS)
    home = mkdtempSync(join(tmpdir(), 'sprites-hostmode-home-'))
    spritesd = spawn(
      'nsenter',
      [
        `--net=/run/netns/${HOST_NS}`,
        process.execPath,
        ...tsArgs('packages/server/src/main.ts', 'serve'),
      ],
      {
        env: {
          ...process.env,
          HOME: home,
          SPRITES_LISTEN: `0.0.0.0:${PORT}`,
          SPRITES_DATA_DIR: dirs.dataDir,
          SPRITES_RUN_DIR: dirs.runDir,
          SPRITES_NETNS_PREFIX: dirs.netnsPrefix,
          SPRITES_CLI_CONFIG_PATH: join(home, 'sprites.json'),
          SPRITES_NETWORK_MODE: 'host',
          SPRITES_DNS_UPSTREAM: UPSTREAM_DNS,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    spritesd.stdout?.on('data', (d: Buffer) => {
      output += d.toString()
    })
    spritesd.stderr?.on('data', (d: Buffer) => {
      output += d.toString()
    })
    const deadline = Date.now() + 120_000
    while (!output.includes('spritesd listening')) {
      if (spritesd.exitCode !== null) throw new Error(`spritesd exited early:\n${output}`)
      if (Date.now() > deadline) throw new Error(`spritesd did not start:\n${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  })

  after(async () => {
    if (spritesd && spritesd.exitCode === null) {
      const exited = new Promise((r) => spritesd?.once('exit', r))
      spritesd.kill('SIGTERM')
      const t = setTimeout(() => spritesd?.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(t)
    }
    upstream?.stop()
    // The namespace takes the veths, forwarding and the nftables table with it.
    if (existsSync(`/run/netns/${HOST_NS}`)) spawnSync('ip', ['netns', 'del', HOST_NS])
    if (home) rmSync(home, { recursive: true, force: true })
  })

  test('sprites resolve, reach the upstream and obey policies; the namespace is all it touches', async () => {
    const token = readFileSync(join(dirs.dataDir, 'admin-token'), 'utf8').trim()
    const client = spawnSync(
      'nsenter',
      [
        `--net=/run/netns/${HOST_NS}`,
        process.execPath,
        ...tsArgs('test/e2e/host-mode-client.ts', `http://127.0.0.1:${PORT}`, token, String(PORT)),
      ],
      { encoding: 'utf8', timeout: 180_000 },
    )
    assert.equal(client.status, 0, `${client.stderr}\n${output.slice(-3000)}`)
    const seen = JSON.parse(client.stdout.trim().split('\n').at(-1) ?? '{}')
    assert.match(seen.resolv, /^nameserver 10\.201\.\d+\.\d+$/)
    assert.equal(seen.open['dns:allowed.test'], `rcode=0 ${ALLOWED_IP}`)
    assert.equal(seen.open['get:allowed.test'], `ok hello ${ALLOWED_IP}`)
    assert.equal(seen.open[`get:${RAW_IP}`], `ok hello ${RAW_IP}`)
    assert.match(seen.open[`get:${PRIVATE_IP}`], /^ERR (ECONNREFUSED|EHOSTUNREACH) /)
    assert.match(seen.toHost, /^ERR /, 'spritesd itself is unreachable from the sprite')
    assert.equal(seen.policyStatus, 204)
    assert.equal(seen.enforced['dns:other.test'], 'rcode=5 ')
    assert.equal(seen.enforced['get:allowed.test'], `ok hello ${ALLOWED_IP}`)
    assert.match(seen.enforced[`get:${RAW_IP}`], /^ERR (ECONNREFUSED|EHOSTUNREACH) /)
    // Host mode set up forwarding and its table in the namespace it ran in, nowhere else.
    const inNs = (args: string[]) => run('ip', ['netns', 'exec', HOST_NS, ...args])
    assert.equal(inNs(['cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '1')
    assert.match(inNs(['nft', 'list', 'tables']), /table inet sprites/)
    assert.equal(rootNamespaceState(), rootBefore)
  })
})
