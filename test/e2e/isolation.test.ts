// Isolation: what a process inside a real sprite can and cannot reach, checked from inside two
// sprites through the API and from the host.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import {
  api,
  type Conn,
  createSprite,
  deleteAll,
  execWS,
  hostProcesses,
  listenerPid,
  openInstanceStore,
  type SpriteInfo,
  sh,
  startDetached,
  waitUntil,
} from './api-helpers.ts'
import { type Spritesd, startSpritesd, uniqueName } from './harness.ts'

const isRoot = process.getuid?.() === 0
const PIDS_MAX = 256
const TEST_TIMEOUT_MS = 120_000
const hostPanic = readFileSync('/proc/sys/kernel/panic', 'utf8')

/** Runs a python3 snippet in the sprite (optionally under sudo); returns its trimmed stdout. */
async function py(conn: Conn, name: string, code: string, sudo = false): Promise<string> {
  const argv = sudo ? ['sudo', 'python3', '-c', code] : ['python3', '-c', code]
  const r = await execWS(conn, name, argv, { timeoutMs: 60_000 })
  assert.equal(r.code, 0, `python3 failed: ${r.stderr}`)
  return r.stdout.trim()
}

describe('sprite isolation', { skip: isRoot ? false : 'needs root to run sprites' }, () => {
  let srv: Spritesd
  let port: number
  const names: string[] = []
  let a: SpriteInfo
  let b: SpriteInfo

  before(async () => {
    srv = await startSpritesd({ SPRITES_PIDS_MAX: String(PIDS_MAX) })
    port = Number(new URL(srv.baseURL).port)
    for (const prefix of ['iso-a', 'iso-b']) names.push(uniqueName(prefix))
    a = await createSprite(srv, names[0] ?? '')
    b = await createSprite(srv, names[1] ?? '')
    // Boot both now so that later time limits measure the checks, not the first wake.
    await sh(srv, a.name, 'true')
    await sh(srv, b.name, 'true')
  })

  after(async () => {
    await deleteAll(srv, names)
    await srv?.stop()
  })

  test('a file written in A is invisible in B, anywhere on its filesystem', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const marker = `iso-marker-${randomBytes(4).toString('hex')}`
    await sh(srv, a.name, `echo secret > ~/${marker}; sudo sh -c 'echo secret > /${marker}'`)
    assert.equal((await sh(srv, a.name, `cat ~/${marker} /${marker}`)).trim(), 'secret\nsecret')
    const inB = await execWS(srv, b.name, [
      'sh',
      '-c',
      `sudo find / -xdev -name '${marker}*' 2>/dev/null; ls ~/${marker} /${marker}`,
    ])
    assert.notEqual(inB.code, 0, 'ls of the marker in B must fail')
    assert.equal(inB.stdout.trim(), '', `B found A's files: ${inB.stdout}`)
    const mountsB = await sh(srv, b.name, 'cat /proc/self/mountinfo')
    assert.ok(!mountsB.includes(a.id), "A's disk shows up in B's mount table")
  })

  test('host processes are invisible: a handful of pids, no spritesd', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const spritesdPid = listenerPid(port)
    assert.ok(spritesdPid, 'spritesd listens on its port')
    const ps = await sh(srv, a.name, 'ps -e -o pid=,args=')
    const lines = ps.trim().split('\n')
    assert.ok(lines.length <= 10, `ps -e in a sprite shows ${lines.length} processes:\n${ps}`)
    const procPids = (await sh(srv, a.name, 'ls /proc')).split(/\s+/).filter((p) => /^\d+$/.test(p))
    assert.ok(procPids.length <= 10, `/proc lists ${procPids.length} pids: ${procPids.join(' ')}`)
    const cmdlines = await sh(
      srv,
      a.name,
      `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done 2>/dev/null`,
    )
    assert.ok(!/main\.ts|spritesd|crun|node /.test(cmdlines), `host commands visible:\n${cmdlines}`)
    const initCmd = await sh(srv, a.name, "tr '\\0' ' ' < /proc/1/cmdline")
    assert.match(initCmd, /sprite-agent/, 'PID 1 inside is the agent')
  })

  test('mount fails, also under sudo', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const argv of [
      ['mount', '-t', 'tmpfs', 'x', '/mnt'],
      ['sudo', 'mount', '-t', 'tmpfs', 'x', '/mnt'],
      ['sudo', 'mount', '--bind', '/tmp', '/mnt'],
    ]) {
      const r = await execWS(srv, a.name, argv)
      assert.notEqual(r.code, 0, `${argv.join(' ')} succeeded`)
      assert.notEqual(r.code, 127, `${argv.join(' ')}: not found: ${r.stderr}`)
    }
    const mounted = await sh(srv, a.name, 'grep -c " /mnt " /proc/self/mountinfo || true')
    assert.equal(mounted.trim(), '0')
  })

  test('no new user namespaces: unshare -U and unshare -r fail', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await sh(srv, a.name, 'command -v unshare')
    for (const argv of [
      ['sudo', 'unshare', '-U', 'true'],
      ['unshare', '-r', 'true'],
      ['unshare', '-U', 'true'],
      ['sudo', 'unshare', '-m', 'true'],
    ]) {
      const r = await execWS(srv, a.name, argv)
      assert.notEqual(r.code, 0, `${argv.join(' ')} succeeded`)
      assert.notEqual(r.code, 127, `${argv.join(' ')}: not found`)
    }
    const errno = await py(
      srv,
      a.name,
      'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n' +
        'r = libc.unshare(0x10000000)\nprint(r, ctypes.get_errno())',
      true,
    )
    assert.match(errno, /^-1 (1|22)$/, `unshare(CLONE_NEWUSER) as root: ${errno}`)
  })

  test('kernel modules cannot be loaded', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const tool of ['modprobe dummy', 'insmod /nonexistent.ko']) {
      const r = await execWS(srv, a.name, ['sh', '-c', `sudo ${tool}`])
      assert.notEqual(r.code, 0, `sudo ${tool} succeeded`)
    }
    // init_module(2) = 175, finit_module(2) = 313 on x86_64; aarch64: 105 and 273.
    const code =
      'import ctypes, os, platform\n' +
      'libc = ctypes.CDLL(None, use_errno=True)\n' +
      "arm = platform.machine() == 'aarch64'\n" +
      'buf = ctypes.create_string_buffer(64)\n' +
      'r1 = libc.syscall(105 if arm else 175, buf, 64, b"")\n' +
      'e1 = ctypes.get_errno()\n' +
      'fd = os.open("/dev/null", os.O_RDONLY)\n' +
      'r2 = libc.syscall(273 if arm else 313, fd, b"", 0)\n' +
      'e2 = ctypes.get_errno()\n' +
      'print(r1, e1, r2, e2)'
    assert.equal(await py(srv, a.name, code, true), '-1 1 -1 1', 'EPERM for both, as root')
    assert.equal(await py(srv, a.name, code), '-1 1 -1 1', 'EPERM for both, as sprite')
  })

  test('no raw access to the network', { timeout: TEST_TIMEOUT_MS }, async () => {
    const links = await sh(srv, a.name, 'sudo ip -o link show')
    const ifnames = links
      .trim()
      .split('\n')
      .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
      .sort()
    assert.deepEqual(ifnames, ['eth0', 'lo'], `interfaces: ${links}`)
    const raw =
      'import socket, errno\n' +
      'out = []\n' +
      'for fam, typ in ((socket.AF_PACKET, socket.SOCK_RAW), (socket.AF_INET, socket.SOCK_RAW)):\n' +
      '    try:\n' +
      '        socket.socket(fam, typ, socket.IPPROTO_ICMP if fam == socket.AF_INET else 0)\n' +
      "        out.append('open')\n" +
      '    except OSError as e:\n' +
      '        out.append(errno.errorcode.get(e.errno, str(e.errno)))\n' +
      "print(' '.join(out))"
    assert.equal(await py(srv, a.name, raw, true), 'EPERM EPERM')
    assert.equal(await py(srv, a.name, raw), 'EPERM EPERM')
    const noAdmin = await execWS(srv, a.name, ['sudo', 'ip', 'link', 'add', 'x0', 'type', 'dummy'])
    assert.notEqual(noAdmin.code, 0, 'creating a link needs NET_ADMIN, which sprites lack')
  })

  test("the host's loopback (spritesd's port) is unreachable", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const gateway = (await sh(srv, a.name, "ip route show default | awk '{print $3}'")).trim()
    const code =
      'import socket, sys\n' +
      'res = []\n' +
      `for host in ('127.0.0.1', ${JSON.stringify(gateway || '127.0.0.1')}):\n` +
      '    s = socket.socket()\n' +
      '    s.settimeout(3)\n' +
      '    try:\n' +
      `        s.connect((host, ${port}))\n` +
      "        res.append('connected')\n" +
      '    except OSError as e:\n' +
      '        res.append(type(e).__name__)\n' +
      '    finally:\n' +
      '        s.close()\n' +
      "print(' '.join(res))"
    const out = await py(srv, a.name, code)
    assert.ok(!out.includes('connected'), `spritesd reachable from inside: ${out}`)
  })

  test('writes to /proc/sys fail, also as root', { timeout: TEST_TIMEOUT_MS }, async () => {
    const knobs = ['kernel/panic', 'vm/overcommit_memory', 'kernel/hostname', 'net/ipv4/ip_forward']
    const read = () => sh(srv, a.name, knobs.map((k) => `cat /proc/sys/${k}`).join('; '))
    const before = await read()
    for (const script of [
      "sudo sh -c 'echo 7 > /proc/sys/kernel/panic'",
      "sudo sh -c 'echo 1 > /proc/sys/vm/overcommit_memory'",
      "sudo sh -c 'echo evil > /proc/sys/kernel/hostname'",
      "sudo sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'",
      "sudo sh -c 'echo 3 > /proc/sys/vm/drop_caches'",
      "sudo sh -c 'echo h > /proc/sysrq-trigger'",
      'sudo sysctl -w kernel.panic=7',
    ]) {
      const r = await execWS(srv, a.name, ['sh', '-c', script])
      assert.notEqual(r.code, 0, `${script} succeeded`)
    }
    assert.equal(await read(), before, '/proc/sys values changed')
    assert.equal(readFileSync('/proc/sys/kernel/panic', 'utf8'), hostPanic, 'host knob changed')
  })

  test('root inside holds no host-reaching capability and runs under seccomp', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const status = await sh(
      srv,
      a.name,
      'sudo grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status',
    )
    const field = (k: string) => new RegExp(`^${k}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? ''
    assert.equal(field('Seccomp'), '2', `seccomp filter mode: ${status}`)
    const forbidden = { SYS_ADMIN: 21, SYS_MODULE: 16, NET_ADMIN: 12, NET_RAW: 13, SYS_PTRACE: 19 }
    for (const set of ['CapEff', 'CapBnd']) {
      const bits = BigInt(`0x${field(set)}`)
      for (const [cap, bit] of Object.entries(forbidden)) {
        assert.equal((bits >> BigInt(bit)) & 1n, 0n, `${set} of root inside has CAP_${cap}`)
      }
    }
  })

  test('sprites cannot reach each other over the network', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const ipB = (await sh(srv, b.name, "ip -o -4 addr show eth0 | awk '{print $4}'")).split('/')[0]
    assert.match(ipB ?? '', /^\d+\.\d+\.\d+\.\d+$/)
    const listen =
      'import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n' +
      's.bind(("0.0.0.0", 8080))\ns.listen()\ns.settimeout(20)\n' +
      'try:\n    c, _ = s.accept()\n    c.send(b"leak")\n    c.close()\nexcept OSError:\n    pass'
    const listener = await startDetached(srv, b.name, ['python3', '-c', listen])
    try {
      await waitUntil(
        async () => (await sh(srv, b.name, 'ss -Hltn "sport = :8080"')).trim() !== '',
        10_000,
        'B listens on 8080',
      )
      const connect =
        'import socket\ns = socket.socket()\ns.settimeout(3)\n' +
        `try:\n    s.connect((${JSON.stringify(ipB)}, 8080))\n    print("connected", s.recv(16))\n` +
        'except OSError as e:\n    print(type(e).__name__)'
      const out = await py(srv, a.name, connect)
      assert.ok(!out.includes('connected'), `A reached B at ${ipB}:8080: ${out}`)
    } finally {
      listener.close()
      await api(srv, 'POST', `/v1/sprites/${b.name}/exec/${listener.sessionID}/kill`, {
        body: { signal: 'KILL', timeout: '2s' },
      }).catch(() => undefined)
    }
  })

  test('/sys is mounted read-only inside a sprite', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const info = await sh(srv, a.name, 'cat /proc/self/mountinfo')
    const sys = info.split('\n').find((l) => l.split(' ')[4] === '/sys')
    assert.ok(sys, `no /sys mount: ${info}`)
    const opts = (sys.split(' ')[5] ?? '').split(',')
    assert.ok(opts.includes('ro'), `/sys mount options: ${sys}`)
    assert.ok(opts.includes('nosuid') && opts.includes('nodev') && opts.includes('noexec'), sys)
  })

  test("/sys shows the sprite's own network and no other sprite's disk", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const nets = (await sh(srv, a.name, 'ls /sys/class/net')).trim().split(/\s+/).sort()
    assert.deepEqual(nets, ['eth0', 'lo'], `host interfaces visible in /sys/class/net: ${nets}`)
    const backing = await sh(
      srv,
      a.name,
      'cat /sys/block/loop*/loop/backing_file 2>/dev/null || true',
    )
    assert.ok(!backing.includes(b.id), `B's disk is visible from A in /sys/block: ${backing}`)
  })

  test('uid 0 inside is an unprivileged uid outside', { timeout: TEST_TIMEOUT_MS }, async () => {
    const secs = `299.${randomBytes(2).readUInt16BE(0)}`
    const session = await startDetached(srv, a.name, ['sudo', 'sleep', secs])
    try {
      let found: { pid: number; uid: number; args: string }[] = []
      await waitUntil(
        () => {
          found = hostProcesses().filter((p) => p.args === `sleep ${secs}`)
          return found.length > 0
        },
        10_000,
        `sleep ${secs} visible on the host`,
      )
      const store = openInstanceStore()
      const record = await store.getSpriteByID(a.id).finally(() => store.close())
      assert.ok(record, 'sprite A is in the store')
      for (const p of found) {
        assert.notEqual(p.uid, 0, `root in the sprite is root on the host: ${JSON.stringify(p)}`)
        assert.ok(p.uid >= 1_000_000, `host uid ${p.uid} is below the sprite ranges`)
        assert.equal(p.uid, record.uidBase, 'uid 0 inside maps to the first uid of its range')
      }
      const whoami = await sh(srv, a.name, 'sudo id -u; id -u')
      assert.equal(whoami.trim(), '0\n1001')
    } finally {
      session.close()
      await api(srv, 'POST', `/v1/sprites/${a.name}/exec/${session.sessionID}/kill`, {
        body: { signal: 'KILL', timeout: '2s' },
      }).catch(() => undefined)
    }
  })

  test('a fork bomb in A hits the pids limit; A, B and spritesd keep working', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    // Forks until the kernel refuses; every child sleeps, then the parent kills them all.
    const bomb =
      'import os, time, signal, errno\n' +
      'kids = []\n' +
      'err = None\n' +
      'while len(kids) < 20000:\n' +
      '    try:\n' +
      '        pid = os.fork()\n' +
      '    except OSError as e:\n' +
      '        err = errno.errorcode.get(e.errno)\n' +
      '        break\n' +
      '    if pid == 0:\n' +
      '        time.sleep(60)\n' +
      '        os._exit(0)\n' +
      '    kids.append(pid)\n' +
      'print(len(kids), err, flush=True)\ntime.sleep(5)\n' +
      'for k in kids: os.kill(k, signal.SIGKILL)\n' +
      'for k in kids: os.waitpid(k, 0)\n' +
      "print('cleaned', flush=True)"
    const bombed = execWS(srv, a.name, ['python3', '-c', bomb], { timeoutMs: 90_000 })
    // While A is at its limit, B and the API answer.
    await new Promise((r) => setTimeout(r, 2500))
    assert.equal((await sh(srv, b.name, 'echo alive', { timeoutMs: 20_000 })).trim(), 'alive')
    const info = await api(srv, 'GET', `/v1/sprites/${b.name}`, { timeoutMs: 10_000 })
    assert.equal(info.status, 200)
    const r = await bombed
    assert.equal(r.code, 0, `bomb runner failed: ${r.stderr}`)
    const [count, err] = r.stdout.split('\n')[0]?.split(' ') ?? []
    assert.equal(err, 'EAGAIN', `fork stopped by EAGAIN: ${r.stdout}`)
    assert.ok(Number(count) < PIDS_MAX, `forked ${count} children with pids.max ${PIDS_MAX}`)
    assert.ok(Number(count) > PIDS_MAX / 2, `only ${count} forks before EAGAIN`)
    assert.match(r.stdout, /cleaned/)
    assert.equal((await sh(srv, a.name, 'echo still-here')).trim(), 'still-here')
  })

  test('a memory hog is OOM-killed (137) inside its limit; B and spritesd unharmed', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const small = await createSprite(srv, uniqueName('iso-mem'), { config: { ram_mb: 128 } })
    names.push(small.name)
    assert.equal(small.config.ram_mb, 128)
    const hog =
      'chunks = []\n' +
      'for i in range(16):\n' +
      '    chunks.append(bytes([i + 1]) * (64 << 20))\n' +
      "print('allocated 1 GiB', flush=True)"
    const r = await execWS(srv, small.name, ['python3', '-c', hog], { timeoutMs: 90_000 })
    assert.equal(r.code, 137, `hog exit ${r.code}: ${r.stdout}${r.stderr}`)
    assert.ok(!r.stdout.includes('allocated'), 'the hog got its 1 GiB')
    assert.equal((await sh(srv, small.name, 'echo ok')).trim(), 'ok', 'the small sprite recovers')
    assert.equal((await sh(srv, b.name, 'echo ok')).trim(), 'ok')
    const list = await api(srv, 'GET', '/v1/sprites')
    assert.equal(list.status, 200)
  })
})
