import { EventEmitter } from 'node:events'
import type { Sandbox, SandboxProcess, SpawnOptions } from '../runtime-driver.ts'
import type { AgentPort } from './agent-port.ts'

/**
 * A running OCI container whose init is the agent. `exit` fires once, when the agent's socket
 * closes or the sandbox is stopped; `stop()` runs `destroy` once, however often it is called.
 */
export class OCISandbox extends EventEmitter implements Sandbox {
  readonly id: string
  readonly pid: number
  readonly agentVersion: string
  #agent: AgentPort
  #destroy: () => Promise<void>
  #stopping: Promise<void> | undefined
  #exited = false

  constructor(
    id: string,
    pid: number,
    agentVersion: string,
    agent: AgentPort,
    destroy: () => Promise<void>,
  ) {
    super()
    this.id = id
    this.pid = pid
    this.agentVersion = agentVersion
    this.#agent = agent
    this.#destroy = destroy
    agent.on('close', () => this.#markExited())
  }

  spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    return this.#agent.spawn(opts)
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    void this.#agent.close()
    await this.#destroy()
    this.#markExited()
  }

  #markExited(): void {
    if (this.#exited) return
    this.#exited = true
    this.emit('exit')
  }
}
