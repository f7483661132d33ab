import type { ServerResponse } from 'node:http'
import type { NDJSONStream } from '../http/ndjson.ts'
import { logPath } from './service-log.ts'
import type { TimedServiceEvent } from './service-state.ts'
import type { SpriteServices } from './sprite-services.ts'

/** Collects one service's events from the moment it is created until it is piped or closed. */
export class EventTap {
  readonly #services: SpriteServices
  readonly #name: string
  readonly #onEvent: (name: string, ev: TimedServiceEvent) => void
  #held: TimedServiceEvent[] = []
  #sink: ((ev: TimedServiceEvent) => void) | undefined

  constructor(services: SpriteServices, name: string) {
    this.#services = services
    this.#name = name
    this.#onEvent = (n, ev) => {
      if (n !== this.#name) return
      if (this.#sink) this.#sink(ev)
      else this.#held.push(ev)
    }
    services.on('event', this.#onEvent)
  }

  /**
   * Writes held and new events to `stream` for `durationMs` (0 = only what is held), stopping
   * early after an `error` event or when the client goes. Does not write `complete`.
   */
  follow(
    stream: NDJSONStream,
    res: ServerResponse,
    durationMs: number,
    keep: (ev: TimedServiceEvent) => boolean = () => true,
  ): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const finish = () => {
        clearTimeout(timer)
        res.off('close', finish)
        this.#sink = () => undefined
        resolve()
      }
      const write = (ev: TimedServiceEvent) => {
        if (keep(ev)) stream.write(ev)
        if (ev.type === 'error' || stream.closed) finish()
      }
      const held = this.#held
      this.#held = []
      this.#sink = write
      for (const ev of held) write(ev)
      if (durationMs <= 0 || stream.closed) return finish()
      timer = setTimeout(finish, durationMs)
      res.once('close', finish)
    })
  }

  close(): void {
    this.#services.off('event', this.#onEvent)
    this.#held = []
  }
}

/** The terminal event of every service stream. */
export function completeEvent(name: string, now = Date.now()): object {
  const p = logPath(name)
  return { type: 'complete', log_files: { combined: p, stdout: p, stderr: p }, timestamp: now }
}
