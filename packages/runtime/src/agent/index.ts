export { AGENT_BINARY_PATH, AGENT_NATIVE_DIR, ensureAgentBuilt } from './agent-binary.ts'
export {
  AgentClient,
  type AgentClientOptions,
  AgentError,
  type Logger,
} from './agent-client.ts'
export {
  AgentProtocolError,
  decodeConnAccepted,
  decodeExit,
  decodeSpawnFailed,
  decodeSpawnRecords,
  encodeFrame,
  encodeResize,
  encodeSpawn,
  encodeTCPConnect,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  type PeerCredentials,
  SpawnTag,
} from './agent-codec.ts'
export { AgentProcess } from './agent-process.ts'
export { AgentStream, AgentStreamError, STREAM_HIGH_WATER_BYTES } from './agent-stream.ts'
export { AgentConnectError, StreamMux } from './agent-stream-mux.ts'
