/**
 * The subset of the OCI runtime configuration (runtime-spec `config.json`, v1.0.2) this
 * runtime writes. Field names follow the specification.
 */
export interface OCIConfig {
  ociVersion: string
  process: OCIProcess
  root: { path: string; readonly: boolean }
  hostname: string
  mounts: OCIMount[]
  linux: OCILinux
}

export interface OCIProcess {
  terminal: boolean
  user: { uid: number; gid: number; additionalGids?: number[] }
  args: string[]
  env: string[]
  cwd: string
  capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>
  rlimits: { type: string; soft: number; hard: number }[]
  noNewPrivileges: boolean
  oomScoreAdj?: number
}

export interface OCIMount {
  destination: string
  type: string
  source: string
  options: string[]
}

export interface OCIIDMapping {
  containerID: number
  hostID: number
  size: number
}

export interface OCINamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup'
  path?: string
}

export interface OCIDeviceRule {
  allow: boolean
  type?: 'a' | 'c' | 'b'
  major?: number
  minor?: number
  access: string
}

export interface OCIResources {
  memory: { limit: number; swap?: number }
  cpu: { quota: number; period: number }
  pids: { limit: number }
  devices: OCIDeviceRule[]
  unified?: Record<string, string>
}

export interface OCISeccompArg {
  index: number
  value: number
  valueTwo?: number
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_MASKED_EQ'
}

export interface OCISeccompRule {
  names: string[]
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO'
  errnoRet?: number
  args?: OCISeccompArg[]
}

export interface OCISeccomp {
  defaultAction: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO'
  architectures: string[]
  syscalls: OCISeccompRule[]
}

export interface OCILinux {
  uidMappings: OCIIDMapping[]
  gidMappings: OCIIDMapping[]
  namespaces: OCINamespace[]
  resources: OCIResources
  cgroupsPath: string
  seccomp: OCISeccomp
  maskedPaths: string[]
  readonlyPaths: string[]
  /** Propagation of the container's mounts (`rslave`, `rprivate`, ...); crun's default is `rprivate`. */
  rootfsPropagation?: string
}
