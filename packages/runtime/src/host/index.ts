export {
  CGROUP_ROOT,
  detectCgroupLayout,
  hasSwapAccounting,
  listCgroupHierarchies,
} from './cgroup-layout.ts'
export type { Logger } from './logger.ts'
export { NOOP_LOGGER } from './logger.ts'
export { readNofileHardLimit } from './process-limits.ts'
export type { CommandResult, RunCommand } from './run-command.ts'
export { runChecked, runCommand } from './run-command.ts'
