/** `postgres://` or `postgresql://`, any case: the URL schemes the PostgreSQL store takes. */
export const POSTGRES_URL_RE = /^postgres(?:ql)?:\/\//i

/**
 * The URL with its password replaced by `***` (in the user-info part and in a `password=` query
 * parameter), for error messages and logs. Never throws, whatever the input.
 * @example redactDatabaseURL('postgres://app:s3cret@db/sprites') // 'postgres://app:***@db/sprites'
 */
export function redactDatabaseURL(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? ''
  const rest = url.slice(scheme.length)
  const queryAt = rest.search(/[?#]/)
  const head = queryAt === -1 ? rest : rest.slice(0, queryAt)
  const tail = queryAt === -1 ? '' : rest.slice(queryAt)
  // The user-info ends at the last `@` before the query: a password may hold `/` or `:`.
  const at = head.lastIndexOf('@')
  let safeHead = head
  if (at !== -1) {
    const userInfo = head.slice(0, at)
    const colon = userInfo.indexOf(':')
    if (colon !== -1) safeHead = `${userInfo.slice(0, colon)}:***${head.slice(at)}`
  }
  const safeTail = tail.replace(/([?&;]password=)[^&#]*/gi, '$1***')
  return `${scheme}${safeHead}${safeTail}`
}
