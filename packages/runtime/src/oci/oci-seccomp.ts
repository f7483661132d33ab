import type { OCISeccomp, OCISeccompRule } from './oci-spec.ts'

const EPERM = 1
const ENOSYS = 38
/** `CLONE_NEWUSER` from linux/sched.h. */
export const CLONE_NEWUSER = 0x10000000

/**
 * Syscalls that fail with EPERM inside a sprite. The capability set already refuses most of
 * them; the filter refuses them again so that a kernel bug in a capability check, or a nested
 * user namespace that would hand out fresh capabilities, does not open them up.
 */
export const DENIED_SYSCALLS: readonly string[] = [
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'mount',
  'umount2',
  'pivot_root',
  'move_mount',
  'open_tree',
  'fsopen',
  'fsmount',
  'fsconfig',
  'fspick',
  'mount_setattr',
  'swapon',
  'swapoff',
  'reboot',
  'bpf',
  'perf_event_open',
  'keyctl',
  'add_key',
  'request_key',
  'userfaultfd',
  'setns',
  'acct',
  'quotactl',
  'quotactl_fd',
  'lookup_dcookie',
  'iopl',
  'ioperm',
  'open_by_handle_at',
  'name_to_handle_at',
  'syslog',
  'vhangup',
  'nfsservctl',
  'uselib',
  'create_module',
  'get_kernel_syms',
  'query_module',
]

/**
 * `personality(2)` values a normal userland uses: PER_LINUX (0), PER_LINUX32 (0x0008),
 * UNAME26 (0x0020000) alone and with PER_LINUX32, ADDR_NO_RANDOMIZE (0x0040000, what `setarch -R`
 * and gdb set) alone and with PER_LINUX32, and 0xffffffff, which only queries the persona.
 */
export const ALLOWED_PERSONALITIES: readonly number[] = [
  0x0, 0x8, 0x20000, 0x20008, 0x40000, 0x40008, 0xffffffff,
]

/** The seccomp architecture name of the running host, as the OCI spec spells it. */
export function seccompArchitectures(arch: string = process.arch): string[] {
  if (arch === 'arm64') return ['SCMP_ARCH_AARCH64']
  return ['SCMP_ARCH_X86_64']
}

/**
 * The sprite's seccomp profile: allow by default, with an explicit deny list. Only the host's
 * native architecture is listed, so syscalls entered through another ABI (i386 `int 0x80`, x32)
 * hit libseccomp's bad-architecture action and kill the caller instead of slipping past the
 * deny list.
 */
export function buildSeccompProfile(arch: string = process.arch): OCISeccomp {
  const syscalls: OCISeccompRule[] = [
    { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
    // A nested user namespace would give its creator a full capability set over new mount,
    // network and other namespaces; refuse every way of making one.
    newUserNamespaceRule('unshare'),
    newUserNamespaceRule('clone', arch === 's390x' ? 1 : 0),
    // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes glibc and musl
    // fall back to clone, whose flags the rule above checks.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    personalityRule(),
  ]
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: seccompArchitectures(arch), syscalls }
}

function newUserNamespaceRule(name: string, flagsIndex = 0): OCISeccompRule {
  return {
    names: [name],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: EPERM,
    args: [
      {
        index: flagsIndex,
        value: CLONE_NEWUSER,
        valueTwo: CLONE_NEWUSER,
        op: 'SCMP_CMP_MASKED_EQ',
      },
    ],
  }
}

/** EPERM for every persona outside `ALLOWED_PERSONALITIES` (the comparisons are ANDed). */
function personalityRule(): OCISeccompRule {
  return {
    names: ['personality'],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: EPERM,
    args: ALLOWED_PERSONALITIES.map((value) => ({ index: 0, value, op: 'SCMP_CMP_NE' as const })),
  }
}
