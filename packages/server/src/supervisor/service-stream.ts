import type { ServerResponse } from 'node:http'
import { type NDJSONStream, startNDJSON } from '../http/ndjson.ts'
import { errorResponse } from '../http/respond.ts'
import type { Logger } from '../logger.ts'
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

/** The `error` event of a service stream (§7 log events). */
export function errorEvent(message: string, now = Date.now()): object {
  return { type: 'error', data: message, timestamp: now }
}

/**
 * Answers with a service's NDJSON stream: sends the headers, runs `work` (which writes the
 * events), then writes `complete` and ends the response. A failure inside `work`, after the
 * headers went out, becomes an `error` event before `complete` (sprites-api.md §1.4), so the
 * client reads whole lines up to the terminal event instead of a cut connection. The message
 * is the one an HTTP error would carry (unexpected errors are logged and say `internal server
 * error`).
 */
export async function serviceStream(
  res: ServerResponse,
  log: Logger,
  name: string,
  work: (stream: NDJSONStream) => Promise<void>,
): Promise<void> {
  const stream = startNDJSON(res)
  try {
    await work(stream)
  } catch (err) {
    stream.write(errorEvent(errorResponse(err, log).body.message))
  }
  stream.write(completeEvent(name))
  stream.end()
}
