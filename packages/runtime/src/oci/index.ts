export type { AgentPort, CreateAgent } from './agent-port.ts'
export { createAgentClient } from './agent-port.ts'
export {
  cgroupPids,
  containerCgroupDirs,
  killCgroup,
  removeCgroupDirs,
} from './container-cgroups.ts'
export type { CrunDriverOptions } from './crun-driver.ts'
export { createCrunDriver } from './crun-driver.ts'
export type { Freezer, FreezerOptions } from './freezer.ts'
export { createFreezer } from './freezer.ts'
export type { OCIHostOptions } from './oci-config.ts'
export {
  AGENT_PATH_IN_SPRITE,
  ALLOWED_DEVICES,
  buildOCIConfig,
  CHECKPOINTS_PATH_IN_SPRITE,
  containerCgroupPath,
  MASKED_PATHS,
  READONLY_PATHS,
  SPRITE_CAPABILITIES,
} from './oci-config.ts'
export { OCISandbox } from './oci-sandbox.ts'
export {
  ALLOWED_PERSONALITIES,
  buildSeccompProfile,
  CLONE_NEWUSER,
  DENIED_SYSCALLS,
} from './oci-seccomp.ts'
export type * from './oci-spec.ts'
export type { Command, RuntimeBinary } from './runtime-command.ts'
export { runArgs, runtimeCommand } from './runtime-command.ts'
