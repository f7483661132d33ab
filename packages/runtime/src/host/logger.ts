type LogFn = (context: object, msg?: string) => void

/** The logger the runtime's drivers take: pino satisfies it. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: object): Logger
}

const noop: LogFn = () => {}

/** A logger that drops everything; the default of every driver. */
export const NOOP_LOGGER: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => NOOP_LOGGER,
}
