import type { ServerResponse } from 'node:http'

/** A newline-delimited JSON response being written (sprites-api.md §1.4). */
export interface NDJSONStream {
  /** Writes one compact JSON line and flushes it; false once the client has gone. */
  write(event: object): boolean
  /** Resolves once the client has taken what was written (or has gone): backpressure. */
  drained(): Promise<void>
  /** Ends the response after the last line. */
  end(): void
  /** True after `end()` or when the client disconnected. */
  readonly closed: boolean
}

/**
 * Starts a 200 `application/x-ndjson` response, chunked, with caching and sniffing off, and
 * sends the headers at once so clients see the stream open before the first event.
 */
export function startNDJSON(res: ServerResponse): NDJSONStream {
  res.writeHead(200, {
    'Content-Type': 'application/x-ndjson',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  })
  res.flushHeaders()
  res.socket?.setNoDelay(true)
  let closed = false
  res.on('close', () => {
    closed = true
  })
  return {
    write(event) {
      if (closed || res.writableEnded) return false
      res.write(`${JSON.stringify(event)}\n`)
      return true
    },
    drained() {
      if (closed || !res.writableNeedDrain) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.once('drain', done)
        res.once('close', done)
      })
    },
    end() {
      closed = true
      if (!res.writableEnded) res.end()
    },
    get closed() {
      return closed || res.writableEnded
    },
  }
}
