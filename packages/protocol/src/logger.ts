/** One log call: context object first, as pino and fastify take it. */
export type LogFn = (context: object, msg?: string) => void

/**
 * The logging port every package takes through its constructor; pino's logger satisfies it.
 * Libraries never import pino themselves.
 */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: object): Logger
}

const noop: LogFn = () => {}

/** A logger that drops everything: the default of every driver, and what tests pass. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
}
