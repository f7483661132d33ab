/** A signal that aborts on SIGINT (Ctrl+C) or SIGTERM; `dispose()` removes the handlers. */
export interface Interrupt {
  readonly signal: AbortSignal
  dispose(): void
}

/** Catches SIGINT and SIGTERM until disposed, so a long-running command can end cleanly. */
export function onInterrupt(): Interrupt {
  const controller = new AbortController()
  const abort = () => controller.abort()
  process.on('SIGINT', abort)
  process.on('SIGTERM', abort)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
    },
  }
}
