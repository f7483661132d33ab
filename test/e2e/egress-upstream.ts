// A stand-in for the internet behind a spritesd router netns, for egress policy tests and the
// DNS benchmark: netns `<name>` joined to the router by a veth (`up0` on the router side), the
// router's default route through it, an authoritative DNS server (dnsmasq), HTTP on :80 and an
// echo server on :9000 on public-looking test addresses (198.18.0.0/15), and one private address.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** The upstream's DNS server, and the router's next hop. */
export const UPSTREAM_DNS = '198.18.0.1'
export const ALLOWED_IP = '198.18.0.2'
export const OTHER_IP = '198.18.0.3'
/** Has no name: reachable only as a raw address. */
export const RAW_IP = '198.18.0.4'
export const WILD_IP = '198.18.0.5'
export const GITHUB_IP = '198.18.0.6'
export const PRIVATE_IP = '10.77.0.2'
/** The router's own address on the upstream link. */
export const ROUTER_UPLINK_IP = '198.18.0.254'

/** What dnsmasq answers (each name and all its subdomains). */
const ZONE = [
  `allowed.test/${ALLOWED_IP}`,
  `other.test/${OTHER_IP}`,
  `wild.test/${WILD_IP}`,
  `github.com/${GITHUB_IP}`,
  `private.test/${PRIVATE_IP}`,
]

/** HTTP on :80 answering `hello <local address>`, echo on :9000. */
const SERVERS_JS = `
const http = require('node:http'), net = require('node:net')
http.createServer((q, r) => r.end('hello ' + q.socket.localAddress + '\\n')).listen(80, '0.0.0.0', () =>
  net.createServer((s) => { s.on('error', () => {}); s.pipe(s) }).listen(9000, '0.0.0.0', () => console.log('listening')))
`

/** One query for allowed.test to the upstream DNS server; exits 0 once it answers. */
const DNS_UP_PY = `
import socket, struct
q = struct.pack('>HHHHHH', 1, 0x0100, 1, 0, 0, 0) + b'\\x07allowed\\x04test\\x00' + struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(q, ('${UPSTREAM_DNS}', 53)); s.recvfrom(512)
`

export interface EgressUpstream {
  /** The upstream netns. */
  netns: string
  /** Kills its processes and removes the netns (and with it the veth and the router's route). */
  stop(): void
}

/** Runs a command; throws with its stderr when it fails. */
export function run(file: string, args: string[], input?: string): string {
  const r = spawnSync(file, args, { encoding: 'utf8', input, timeout: 10_000 })
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/**
 * Builds the upstream behind `routerNetns` (which must exist: spritesd creates it at the first
 * boot) and waits until its servers answer. Everything is removed again if that fails.
 */
export async function startEgressUpstream(
  routerNetns: string,
  netns: string,
): Promise<EgressUpstream> {
  const procs: ChildProcess[] = []
  const stop = () => {
    for (const p of procs.splice(0)) p.kill('SIGKILL')
    if (existsSync(`/run/netns/${netns}`)) spawnSync('ip', ['netns', 'del', netns])
  }
  try {
    buildLinks(routerNetns, netns)
    const servers = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SERVERS_JS], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    procs.push(
      servers,
      spawn('ip', ['netns', 'exec', netns, ...dnsmasqArgs()], { stdio: 'ignore' }),
    )
    await new Promise<void>((resolve, reject) => {
      servers.stdout?.once('data', () => resolve())
      servers.once('exit', (code) => reject(new Error(`upstream servers exited ${code}`)))
    })
    const deadline = Date.now() + 10_000
    while (spawnSync('ip', ['netns', 'exec', netns, 'python3', '-c', DNS_UP_PY]).status !== 0) {
      if (Date.now() > deadline) throw new Error('dnsmasq does not answer')
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (err) {
    stop()
    throw err
  }
  return { netns, stop }
}

function dnsmasqArgs(): string[] {
  return [
    'dnsmasq',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--user=root',
    '--pid-file=',
    `--listen-address=${UPSTREAM_DNS}`,
    '--bind-interfaces',
    '--local-ttl=60',
    ...ZONE.map((z) => `--address=/${z}`),
  ]
}

function buildLinks(routerNetns: string, netns: string): void {
  if (existsSync(`/run/netns/${netns}`)) run('ip', ['netns', 'del', netns])
  run('ip', ['netns', 'add', netns])
  run(
    'ip',
    ['-n', routerNetns, '-batch', '-'],
    [
      `link add up0 type veth peer name eth0 netns ${netns}`,
      `addr add ${ROUTER_UPLINK_IP}/24 dev up0`,
      'link set up0 up',
      `route replace default via ${UPSTREAM_DNS}`,
      '',
    ].join('\n'),
  )
  run(
    'ip',
    ['-n', netns, '-batch', '-'],
    [
      ...[UPSTREAM_DNS, ALLOWED_IP, OTHER_IP, RAW_IP, WILD_IP, GITHUB_IP].map(
        (ip) => `addr add ${ip}/24 dev eth0`,
      ),
      'link set eth0 up',
      'link set lo up',
      `addr add ${PRIVATE_IP}/32 dev lo`,
      '',
    ].join('\n'),
  )
}
