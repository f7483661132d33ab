export type { Logger } from '@sprites/protocol'
export { noopLogger as NOOP_LOGGER } from '@sprites/protocol'

/** Errors of the agent client. `errno` is the agent's code for `agent_spawn_failed`. */
export class AgentError extends Error {
  readonly code: 'agent_spawn_failed' | 'agent_closed' | 'agent_timeout' | 'agent_backpressure'
  readonly errno: number | undefined
  constructor(
    code: AgentError['code'],
    message: string,
    options?: { errno?: number; cause?: unknown },
  ) {
    super(message, { cause: options?.cause })
    this.name = 'AgentError'
    this.code = code
    this.errno = options?.errno
  }
}

/** `agent_closed`, optionally caused by the socket error. */
export function closedError(cause?: Error): AgentError {
  return new AgentError('agent_closed', 'the connection to the sprite agent is closed', { cause })
}
