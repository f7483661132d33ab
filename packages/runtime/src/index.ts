export {
  AGENT_BINARY_PATH,
  AGENT_NATIVE_DIR,
  AgentClient,
  AgentConnectError,
  AgentError,
  AgentProcess,
  AgentStream,
  AgentStreamError,
  ensureAgentBuilt,
} from './agent/index.ts'
export * from './host/index.ts'
export * from './network/index.ts'
export * from './oci/index.ts'
export * from './ports/index.ts'
export type * from './runtime-driver.ts'

/** Host directory of the scripts that every sprite sees in `/.sprite/bin` next to the agent. */
export const SPRITE_BIN_SOURCE_DIR = new URL('../sprite-bin/', import.meta.url).pathname
