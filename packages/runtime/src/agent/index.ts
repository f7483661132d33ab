export { AGENT_BINARY_PATH, AGENT_NATIVE_DIR, ensureAgentBuilt } from './agent-binary.ts'
export {
  AgentClient,
  type AgentClientOptions,
  AgentError,
  type Logger,
} from './agent-client.ts'
export {
  AgentProtocolError,
  decodeExit,
  decodeSpawnFailed,
  decodeSpawnRecords,
  encodeFrame,
  encodeResize,
  encodeSpawn,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  SpawnTag,
} from './agent-codec.ts'
export { AgentProcess } from './agent-process.ts'
