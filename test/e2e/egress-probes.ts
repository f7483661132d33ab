// What the egress policy tests run inside sprites (Python, which the base image has) and the
// host-side probes of netns membership they use to find the resolver and count leftovers.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { run } from './egress-upstream.ts'

/**
 * Runs inside a sprite. Each argument is `dns:<name>` (a raw query to the resolver in
 * /etc/resolv.conf: `rcode=<n> <addresses>`), `tcpdns:<name>` (the same over TCP) or
 * `get:<host>` (HTTP GET on port 80 with a 3 s timeout: `ok <body>` or `ERR <errno> <ms>`).
 * Prints one JSON line `[arg, result]` per argument.
 */
export const PROBE_PY = `
import errno, json, random, socket, struct, sys, time
NS = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]
def skip_name(m, i):
    while m[i] != 0 and m[i] & 0xc0 != 0xc0: i += m[i] + 1
    return i + (2 if m[i] & 0xc0 == 0xc0 else 1)
def dns(name, tcp):
    q = struct.pack('>HHHHHH', random.randint(0, 65535), 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
    if tcp:
        s = socket.create_connection((NS, 53), timeout=3)
        s.sendall(struct.pack('>H', len(q)) + q)
        m = b''
        while len(m) < 2 or len(m) < 2 + struct.unpack('>H', m[:2])[0]:
            c = s.recv(4096)
            if not c: break
            m += c
        m = m[2:]
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (NS, 53))
        m = s.recvfrom(4096)[0]
    i = skip_name(m, 12) + 4
    addrs = []
    for _ in range(struct.unpack('>H', m[6:8])[0]):
        i = skip_name(m, i)
        t, c, ttl, n = struct.unpack('>HHIH', m[i:i + 10])
        i += 10
        if t == 1 and n == 4: addrs.append(socket.inet_ntoa(m[i:i + 4]))
        i += n
    return 'rcode=%d %s' % (m[3] & 15, ','.join(addrs))
def get(host):
    t0 = time.time()
    try:
        s = socket.create_connection((host, 80), timeout=3)
        s.sendall(b'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')
        data = b''
        while True:
            c = s.recv(4096)
            if not c: break
            data += c
        return 'ok ' + data.decode().strip().split('\\n')[-1]
    except socket.gaierror as e:
        return 'ERR gaierror'
    except OSError as e:
        return 'ERR %s %d' % (errno.errorcode.get(e.errno, type(e).__name__), (time.time() - t0) * 1000)
for arg in sys.argv[1:]:
    kind, _, target = arg.partition(':')
    try:
        r = get(target) if kind == 'get' else dns(target, kind == 'tcpdns')
    except Exception as e:
        r = 'ERR ' + type(e).__name__
    print(json.dumps([arg, r]))
`

/**
 * Holds one TCP connection to allowed.test:9000, echoing a byte every 100 ms, and writes its
 * state to /tmp/hold.state: `alive <n>`, then `cut <error>` when the connection ends.
 */
export const HOLD_PY = `
import socket, time
def state(x): open('/tmp/hold.state', 'w').write(x)
s = socket.create_connection(('allowed.test', 9000), timeout=3)
n, t0 = 0, time.time()
state('alive 0')
while time.time() - t0 < 40:
    try:
        s.sendall(b'x')
        if not s.recv(16):
            state('cut EOF'); break
        n += 1
        state('alive %d' % n)
    except OSError as e:
        state('cut %s' % type(e).__name__); break
    time.sleep(0.1)
`

/** Network namespace inode of a pid (`net:[4026532...]`), or undefined when it is gone. */
export function netnsOf(pid: number | string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`)
  } catch {
    return undefined
  }
}

/** Pids of the processes inside a named netns. */
export function pidsInNetns(netns: string): number[] {
  const ns = existsSync(`/run/netns/${netns}`) ? netnsInode(netns) : undefined
  if (!ns) return []
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && netnsOf(p) === ns)
    .map(Number)
}

/** The inode (`net:[…]`) of a named netns. */
export function netnsInode(netns: string): string {
  return `net:[${run('stat', ['-L', '-c', '%i', `/run/netns/${netns}`]).trim()}]`
}

/** A process's command line (arguments joined by spaces); empty once it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}
