/**
 * Undo actions, run newest first. Each runs at most once, and a failing one does not stop the
 * rest, so `runAll()` can be called from both a `finally` and a signal handler.
 */
export class CleanupStack {
  #actions: { label: string; fn: () => Promise<unknown> | unknown }[] = []
  #running: Promise<string[]> | null = null

  add(label: string, fn: () => Promise<unknown> | unknown): void {
    this.#actions.push({ label, fn })
  }

  /** Runs every pending action; resolves to the failures, as `label: message` lines. */
  runAll(): Promise<string[]> {
    this.#running ??= this.#drain().finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #drain(): Promise<string[]> {
    const failures: string[] = []
    for (let a = this.#actions.pop(); a !== undefined; a = this.#actions.pop()) {
      try {
        await a.fn()
      } catch (err) {
        failures.push(`${a.label}: ${(err as Error).message}`)
      }
    }
    return failures
  }
}
