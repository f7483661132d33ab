export { type Logger, noopLogger } from '@sprites/protocol'

/** Time source; tests inject a fixed or stepping one. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
