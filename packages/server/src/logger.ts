type LogFn = (context: object, msg?: string) => void

/** The logging port: pino satisfies it; libraries and tests pass their own. Context object first. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: object): Logger
}

const noop: LogFn = () => {}

/** A Logger that drops everything (tests). */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
}

/** Time source; tests inject a fixed or stepping one. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
