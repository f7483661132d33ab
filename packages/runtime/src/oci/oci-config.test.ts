import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { CgroupLayout, SandboxSpec } from '../runtime-driver.ts'
import { buildOCIConfig, SPRITE_CAPABILITIES } from './oci-config.ts'
import { CLONE_NEWUSER, DENIED_SYSCALLS } from './oci-seccomp.ts'
import type { OCIConfig, OCISeccompRule } from './oci-spec.ts'

const SPEC: SandboxSpec = {
  id: 'sp-0123456789ab',
  hostname: 'my-sprite',
  rootfs: '/var/lib/sprites/mnt/sp-0123456789ab',
  uidBase: 100_000,
  uidCount: 65_536,
  memoryBytes: 512 * 1024 * 1024,
  cpus: 1.5,
  pidsMax: 1024,
  netnsPath: '/run/netns/sprite-7',
  spriteBinDir: '/usr/lib/sprites/bin',
}

const FORBIDDEN_CAPS = [
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_SYS_MODULE',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_SYS_RAWIO',
  'CAP_SYS_TIME',
  'CAP_SYS_BOOT',
  'CAP_DAC_READ_SEARCH',
  'CAP_BPF',
]

function rulesFor(config: OCIConfig, name: string): OCISeccompRule[] {
  return config.linux.seccomp.syscalls.filter((r) => r.names.includes(name))
}

for (const layout of ['hybrid', 'v1', 'v2'] as CgroupLayout[]) {
  describe(`buildOCIConfig on a ${layout} host`, () => {
    const config = buildOCIConfig(SPEC, { layout, nofile: 4096, arch: 'x64' })

    test('runs the agent as root of a user namespace mapped to the uid range', () => {
      assert.deepEqual(config.process.args, ['/.sprite/bin/sprite-agent'])
      assert.equal(config.process.cwd, '/')
      assert.equal(config.process.terminal, false)
      assert.deepEqual(config.process.user, { uid: 0, gid: 0 })
      assert.equal(config.process.noNewPrivileges, false)
      const mapping = [{ containerID: 0, hostID: 100_000, size: 65_536 }]
      assert.deepEqual(config.linux.uidMappings, mapping)
      assert.deepEqual(config.linux.gidMappings, mapping)
      assert.deepEqual(config.root, { path: SPEC.rootfs, readonly: false })
      assert.equal(config.hostname, 'my-sprite')
      assert.deepEqual(config.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 4096, hard: 4096 }])
    })

    test('creates every namespace and joins the given netns', () => {
      const types = config.linux.namespaces.map((n) => n.type).sort()
      assert.deepEqual(types, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'])
      const net = config.linux.namespaces.find((n) => n.type === 'network')
      assert.equal(net?.path, '/run/netns/sprite-7')
      assert.ok(config.linux.namespaces.every((n) => n.type === 'network' || !n.path))
    })

    test('keeps only the userland capabilities', () => {
      const caps = config.process.capabilities
      for (const set of ['bounding', 'effective', 'permitted'] as const) {
        assert.deepEqual(caps[set], [...SPRITE_CAPABILITIES])
        for (const cap of FORBIDDEN_CAPS) assert.ok(!caps[set].includes(cap), `${set} has ${cap}`)
      }
      assert.deepEqual(caps.inheritable, [])
      assert.deepEqual(caps.ambient, [])
      assert.ok(caps.bounding.includes('CAP_SETUID'))
    })

    test('mounts the sprite directories and the kernel filesystems', () => {
      const byDest = new Map(config.mounts.map((m) => [m.destination, m]))
      const bin = byDest.get('/.sprite/bin')
      assert.equal(bin?.source, SPEC.spriteBinDir)
      for (const opt of ['bind', 'ro', 'nosuid', 'nodev']) assert.ok(bin?.options.includes(opt))
      assert.equal(byDest.get('/.sprite/tmp')?.type, 'tmpfs')
      assert.ok(byDest.get('/.sprite/tmp')?.options.includes('size=16m'))
      const pts = byDest.get('/dev/pts')?.options ?? []
      for (const opt of ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'])
        assert.ok(pts.includes(opt))
      assert.ok(byDest.get('/sys')?.options.includes('ro'))
      for (const dest of ['/proc', '/dev', '/dev/shm', '/dev/mqueue'])
        assert.ok(byDest.has(dest), dest)
      assert.ok(!byDest.has('/etc/resolv.conf'))
    })

    test('limits memory without swap, cpu, pids and devices', () => {
      const r = config.linux.resources
      assert.deepEqual(r.memory, { limit: SPEC.memoryBytes, swap: SPEC.memoryBytes })
      assert.deepEqual(r.cpu, { quota: 150_000, period: 100_000 })
      assert.deepEqual(r.pids, { limit: 1024 })
      assert.deepEqual(r.devices[0], { allow: false, access: 'rwm' })
      const allowed = r.devices.slice(1).map((d) => `${d.type} ${d.major}:${d.minor ?? '*'}`)
      assert.deepEqual(
        allowed.sort(),
        ['c 136:*', 'c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:2'].sort(),
      )
      assert.equal(r.unified, undefined)
      assert.equal(config.linux.cgroupsPath, '/sprites/sp-0123456789ab')
    })

    test('masks and write-protects kernel paths', () => {
      for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware']) {
        assert.ok(config.linux.maskedPaths.includes(p), p)
      }
      for (const p of ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus']) {
        assert.ok(config.linux.readonlyPaths.includes(p), p)
      }
    })

    test('seccomp denies the dangerous syscalls with EPERM', () => {
      const seccomp = config.linux.seccomp
      assert.equal(seccomp.defaultAction, 'SCMP_ACT_ALLOW')
      assert.deepEqual(seccomp.architectures, ['SCMP_ARCH_X86_64'])
      for (const name of [
        'kexec_load',
        'init_module',
        'mount',
        'umount2',
        'pivot_root',
        'bpf',
        'perf_event_open',
        'keyctl',
        'userfaultfd',
        'setns',
        'open_by_handle_at',
        'syslog',
        'fsopen',
        'mount_setattr',
        'reboot',
        'swapon',
        'iopl',
        'acct',
      ]) {
        assert.ok(DENIED_SYSCALLS.includes(name), name)
        const [rule] = rulesFor(config, name)
        assert.equal(rule?.action, 'SCMP_ACT_ERRNO', name)
        assert.equal(rule?.errnoRet, 1, name)
        assert.equal(rule?.args, undefined, name)
      }
      assert.equal(rulesFor(config, 'ptrace').length, 0)
    })

    test('seccomp refuses new user namespaces and makes clone3 fall back', () => {
      for (const name of ['unshare', 'clone']) {
        const [rule] = rulesFor(config, name)
        assert.deepEqual(rule?.args, [
          { index: 0, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: 'SCMP_CMP_MASKED_EQ' },
        ])
        assert.equal(rule?.errnoRet, 1)
      }
      assert.equal(rulesFor(config, 'clone3')[0]?.errnoRet, 38)
      const [personality] = rulesFor(config, 'personality')
      assert.ok(personality?.args?.every((a) => a.op === 'SCMP_CMP_NE' && a.index === 0))
      assert.ok(personality?.args?.some((a) => a.value === 0))
    })
  })
}

describe('buildOCIConfig options', () => {
  test('without a netns path the sandbox gets a private network namespace', () => {
    const config = buildOCIConfig({ ...SPEC, netnsPath: undefined }, { layout: 'v2' })
    assert.deepEqual(
      config.linux.namespaces.find((n) => n.type === 'network'),
      { type: 'network' },
    )
  })

  test('binds resolv.conf, uses the cgroup parent and drops swap without accounting', () => {
    const config = buildOCIConfig(SPEC, {
      layout: 'hybrid',
      cgroupParent: 'sprites-test',
      resolvConfPath: '/run/sprites/resolv.conf',
      swapAccounting: false,
      arch: 'arm64',
    })
    const resolv = config.mounts.find((m) => m.destination === '/etc/resolv.conf')
    assert.equal(resolv?.source, '/run/sprites/resolv.conf')
    assert.ok(resolv?.options.includes('ro'))
    assert.equal(config.linux.cgroupsPath, '/sprites-test/sp-0123456789ab')
    assert.deepEqual(config.linux.resources.memory, { limit: SPEC.memoryBytes })
    assert.deepEqual(config.linux.seccomp.architectures, ['SCMP_ARCH_AARCH64'])
  })

  test('dnsServers give the sandbox its own writable resolv.conf, over a fixed one', () => {
    const host = { layout: 'v1' as const, etcDir: '/run/s/etc/sp-1', resolvConfPath: '/x/resolv' }
    const config = buildOCIConfig({ ...SPEC, dnsServers: ['10.201.0.5'] }, host)
    const resolv = config.mounts.filter((m) => m.destination === '/etc/resolv.conf')
    assert.deepEqual(resolv, [
      {
        destination: '/etc/resolv.conf',
        type: 'bind',
        source: '/run/s/etc/sp-1/resolv.conf',
        options: ['bind', 'nosuid', 'nodev', 'noexec'],
      },
    ])
    const without = buildOCIConfig(SPEC, host)
    const fixed = without.mounts.find((m) => m.destination === '/etc/resolv.conf')
    assert.equal(fixed?.source, '/x/resolv')
  })

  test('binds the checkpoints directory read-only with slave propagation only when given', () => {
    const without = buildOCIConfig(SPEC, { layout: 'hybrid' })
    assert.equal(without.linux.rootfsPropagation, undefined)
    assert.ok(!without.mounts.some((m) => m.destination === '/.sprite/checkpoints'))
    const config = buildOCIConfig({ ...SPEC, checkpointsDir: '/run/s/ckpt/sp-1' }, { layout: 'v1' })
    const ckpt = config.mounts.find((m) => m.destination === '/.sprite/checkpoints')
    assert.equal(ckpt?.source, '/run/s/ckpt/sp-1')
    for (const opt of ['rbind', 'ro', 'nosuid', 'nodev', 'rslave'])
      assert.ok(ckpt?.options.includes(opt))
    assert.equal(config.linux.rootfsPropagation, 'rslave')
  })

  for (const [field, destination] of [
    ['policyDir', '/.sprite/policy'],
    ['logsDir', '/.sprite/logs'],
  ] as const) {
    test(`binds ${field} read-only at ${destination} only when given`, () => {
      const without = buildOCIConfig(SPEC, { layout: 'hybrid' })
      assert.ok(!without.mounts.some((m) => m.destination === destination))
      const config = buildOCIConfig({ ...SPEC, [field]: '/host/dir/x' }, { layout: 'v1' })
      const mount = config.mounts.find((m) => m.destination === destination)
      assert.equal(mount?.source, '/host/dir/x')
      for (const opt of ['ro', 'nosuid', 'nodev']) assert.ok(mount?.options.includes(opt))
    })
  }

  test('is pure', () => {
    assert.deepEqual(buildOCIConfig(SPEC, { layout: 'v2' }), buildOCIConfig(SPEC, { layout: 'v2' }))
  })
})
