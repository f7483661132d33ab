/** Runs work one at a time per key: a later call for the same key waits for the earlier one. */
export function createKeyedQueue() {
  const tails = new Map<string, Promise<unknown>>()
  return async function run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = tails.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    tails.set(key, tail)
    try {
      return await next
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}

/** The function `createKeyedQueue` returns. */
export type KeyedQueue = ReturnType<typeof createKeyedQueue>
