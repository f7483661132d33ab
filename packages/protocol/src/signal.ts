import { constants } from 'node:os'

/** Linux signal numbers by bare name. */
const SIGNALS: Record<string, number> = Object.fromEntries(
  Object.entries(constants.signals).map(([k, v]) => [k.slice(3), v]),
)

export interface Signal {
  /** Canonical form with the prefix, e.g. `SIGTERM`. */
  name: string
  number: number
}

/**
 * Parses a signal given with or without `SIG`, in any case, or as a number.
 * @returns null when unknown
 * @example parseSignal('term') // { name: 'SIGTERM', number: 15 }
 */
export function parseSignal(input: string | number | undefined | null): Signal | null {
  if (input === undefined || input === null) return null
  const raw = String(input).trim()
  if (/^\d+$/.test(raw)) {
    const n = Number(raw)
    const entry = Object.entries(SIGNALS).find(([, v]) => v === n)
    return entry ? { name: `SIG${entry[0]}`, number: n } : null
  }
  const bare = raw.toUpperCase().replace(/^SIG/, '')
  const n = SIGNALS[bare]
  return n === undefined ? null : { name: `SIG${bare}`, number: n }
}

/** Exit code of a process killed by signal n (128+n). */
export function signalExitCode(signo: number): number {
  return Math.min(255, 128 + signo)
}
