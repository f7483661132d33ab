/** One log call: context object first, as pino and fastify take it. */
export type LogFn = (context: object, msg?: string) => void

/** The logging port of this package; pino's logger satisfies it. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: object): Logger
}

const noop: LogFn = () => {}

/** A logger that drops everything, for tests and callers without logging. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
}
