import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import type { Sandbox, SandboxPeer, SandboxProcess, SpawnOptions } from '../runtime-driver.ts'
import type { AgentPort } from './agent-port.ts'

/** The stream side of the agent client; agents without it (test fakes) refuse `connect`. */
interface StreamingAgent {
  connect?(host: string, port: number): Promise<Duplex>
  on(event: 'connection', listener: (socket: Duplex, peer: SandboxPeer) => void): unknown
}

import type { Freezer } from './freezer.ts'

/**
 * A running OCI container whose init is the agent. `exit` fires once, when the agent's socket
 * closes or the sandbox is stopped; `stop()` runs `destroy` once, however often it is called.
 * `connection` re-emits the agent's api.sock connections; with no listener they are closed.
 */
export class OCISandbox extends EventEmitter implements Sandbox {
  readonly id: string
  readonly pid: number
  readonly agentVersion: string
  #agent: AgentPort
  #destroy: () => Promise<void>
  #freezer: Freezer | undefined
  #stopping: Promise<void> | undefined
  #exited = false

  constructor(
    id: string,
    pid: number,
    agentVersion: string,
    agent: AgentPort,
    destroy: () => Promise<void>,
    freezer?: Freezer,
  ) {
    super()
    this.id = id
    this.pid = pid
    this.agentVersion = agentVersion
    this.#agent = agent
    this.#destroy = destroy
    this.#freezer = freezer
    agent.on('close', () => this.#markExited())
    ;(agent as unknown as StreamingAgent).on('connection', (socket, peer) => {
      if (this.listenerCount('connection') === 0) socket.destroy()
      else this.emit('connection', socket, peer)
    })
  }

  connect(host: string, port: number): Promise<Duplex> {
    const agent = this.#agent as unknown as StreamingAgent
    if (!agent.connect) return Promise.reject(new Error('this sandbox agent cannot open streams'))
    return agent.connect(host, port)
  }

  spawn(opts: SpawnOptions): Promise<SandboxProcess> {
    return this.#agent.spawn(opts)
  }

  /** Freezes the container's cgroup; without a freezer (tests) it does nothing. */
  async freeze(): Promise<void> {
    await this.#freezer?.freeze()
  }

  async thaw(): Promise<void> {
    await this.#freezer?.thaw()
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
