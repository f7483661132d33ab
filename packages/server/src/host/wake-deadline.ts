import { isSpritesError, SpritesError } from '@sprites/protocol'

/** How long a request waits for its sprite to wake before it gets 503 (§11, §1.3). */
export const WAKE_TIMEOUT_MS = 30_000
/** `Retry-After` of a wake that ran out of time or failed. */
const RETRY_AFTER_SECONDS = 5

/**
 * Waits for `wake` at most `ms`. Past that it throws `sprite_unavailable` (503, `Retry-After`)
 * while the wake goes on, so a retry joins it; a wake that fails with anything but a
 * SpritesError becomes `sprite_unavailable` too. A SpritesError passes through unchanged.
 */
export async function wakeDeadline<T>(
  wake: Promise<T>,
  ms: number,
  spriteName: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SpritesError('sprite_unavailable', `sprite ${spriteName} is still waking`, {
            details: { retry_after_seconds: RETRY_AFTER_SECONDS },
          }),
        ),
      ms,
    )
  })
  try {
    return await Promise.race([wake, timeout])
  } catch (err) {
    if (isSpritesError(err)) throw err
    throw new SpritesError('sprite_unavailable', `sprite ${spriteName} could not be woken`, {
      cause: err,
      details: { retry_after_seconds: RETRY_AFTER_SECONDS },
    })
  } finally {
    clearTimeout(timer)
  }
}
