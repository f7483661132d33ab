/** Parses the contract's booleans: `true`/`false`, `1`/`0`; anything else (or absent) gives the default. */
export function parseBool(v: string | null | undefined, dflt: boolean): boolean {
  if (v === null || v === undefined || v === '') return dflt
  const s = v.toLowerCase()
  if (s === 'true' || s === '1') return true
  if (s === 'false' || s === '0') return false
  return dflt
}

/** RFC 3339 UTC with milliseconds, or null. */
export function toRFC3339(d: Date | number | null | undefined): string | null {
  if (d === null || d === undefined) return null
  return new Date(d).toISOString()
}
