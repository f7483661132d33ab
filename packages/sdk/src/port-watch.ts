import { EventEmitter } from 'node:events'
import { SpritesError } from '@sprites/protocol'
import { apiURL } from './http.ts'
import type { ResolvedOptions, WebSocketLike } from './options.ts'
import type { PortEvent } from './types.ts'

/** Events of a PortWatch. */
export interface PortWatchEvents {
  opened: [port: PortEvent]
  closed: [port: PortEvent]
  close: []
}

const OPEN = 1
const FIRST_MESSAGE_TIMEOUT_MS = 30_000

function toPort(v: unknown): PortEvent | null {
  const o = v as { port?: unknown; address?: unknown; pid?: unknown } | null
  if (!o || typeof o.port !== 'number') return null
  return {
    port: o.port,
    address: typeof o.address === 'string' ? o.address : '',
    pid: typeof o.pid === 'number' ? o.pid : 0,
  }
}

const key = (p: PortEvent) => `${p.address} ${p.port}`

/**
 * The TCP listeners of a sprite, kept current from `WS …/ports/watch` (§9.2). Created by
 * `SpritesClient.watchPorts()`, which resolves once the initial list arrived. Does not wake the
 * sprite: a cold sprite has no ports until something wakes it.
 */
export class PortWatch extends EventEmitter<PortWatchEvents> {
  readonly #ws: WebSocketLike
  readonly #ports = new Map<string, PortEvent>()

  private constructor(ws: WebSocketLike) {
    super()
    this.#ws = ws
  }

  /** Connects and waits for `port_list`. @throws SpritesError when the socket fails first */
  static open(o: ResolvedOptions, name: string): Promise<PortWatch> {
    const url = apiURL(o.baseURL, ['sprites', name, 'ports', 'watch']).replace(/^http/, 'ws')
    const ws = new o.WebSocket(url, { headers: { Authorization: `Bearer ${o.token}` } })
    const watch = new PortWatch(ws)
    return new Promise((resolve, reject) => {
      let listed = false
      const timer = setTimeout(() => {
        reject(new SpritesError('internal', 'no port list from ports/watch'))
        watch.close()
      }, FIRST_MESSAGE_TIMEOUT_MS)
      ws.addEventListener('message', (ev: { data: unknown }) => {
        if (typeof ev.data !== 'string') return
        if (watch.#onText(ev.data) && !listed) {
          listed = true
          clearTimeout(timer)
          resolve(watch)
        }
      })
      ws.addEventListener('close', (ev: { code: number; reason: string }) => {
        clearTimeout(timer)
        if (!listed) {
          reject(new SpritesError('internal', `ports/watch closed (${ev.code} ${ev.reason})`))
        }
        watch.emit('close')
      })
      ws.addEventListener('error', () => undefined)
    })
  }

  /** The listeners open now. */
  get ports(): PortEvent[] {
    return [...this.#ports.values()]
  }

  /** Closes the watch socket. */
  close(): void {
    if (this.#ws.readyState <= OPEN) this.#ws.close(1000, '')
  }

  /** Applies one message; returns true for `port_list`. */
  #onText(text: string): boolean {
    let msg: { type?: unknown; ports?: unknown }
    try {
      msg = JSON.parse(text) as typeof msg
    } catch {
      return false
    }
    if (msg.type === 'port_list' && Array.isArray(msg.ports)) {
      for (const p of msg.ports.map(toPort)) if (p) this.#ports.set(key(p), p)
      return true
    }
    const p = toPort(msg)
    if (!p) return false
    if (msg.type === 'port_opened') {
      this.#ports.set(key(p), p)
      this.emit('opened', p)
    } else if (msg.type === 'port_closed') {
      this.#ports.delete(key(p))
      this.emit('closed', p)
    }
    return false
  }
}
