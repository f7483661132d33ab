import type { Duplex } from 'node:stream'
import { AgentClient } from '../agent/index.ts'
import type { Logger } from '../host/logger.ts'
import type { SandboxProcess, SpawnOptions } from '../runtime-driver.ts'

/** What the driver uses of the in-sprite agent's client (`src/agent/agent-client.ts`). */
export interface AgentPort {
  /** Resolves with the agent's version once READY arrived; rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<string>
  spawn(opts: SpawnOptions): Promise<SandboxProcess>
  /** Ends the socket; the agent then kills every process of the sprite. */
  close(): void | Promise<void>
  /** `close` fires when the agent's socket ended. */
  on(event: 'close', listener: () => void): unknown
}

/**
 * Builds the agent client on the container's fd 3 socket. It runs synchronously, right after
 * the runtime is spawned: Node resumes (and so discards the data of) a child's stdio stream
 * that has no reader when the child exits, and the runtime exits as soon as the container runs.
 */
export type CreateAgent = (socket: Duplex, log: Logger) => AgentPort

/** The real agent client. */
export const createAgentClient: CreateAgent = (socket, log) => new AgentClient(socket, { log })
