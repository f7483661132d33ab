import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Largest compiled terminfo entry sent along: it travels in the exec URL. */
export const MAX_TERMINFO_BYTES = 6 * 1024

/** Where ncurses looks for compiled entries when nothing says otherwise. */
const SYSTEM_TERMINFO_DIRS = [
  '/etc/terminfo',
  '/lib/terminfo',
  '/usr/share/terminfo',
  '/usr/lib/terminfo',
  '/usr/share/lib/terminfo',
]

type Env = Readonly<Record<string, string | undefined>>

/** The directories searched for `TERM`'s entry, in ncurses' order (`$TERMINFO` first). */
export function terminfoDirs(env: Env, home: string): string[] {
  const dirs: string[] = []
  if (env.TERMINFO) dirs.push(env.TERMINFO)
  if (home) dirs.push(join(home, '.terminfo'))
  // In TERMINFO_DIRS an empty entry stands for the system directories.
  for (const d of env.TERMINFO_DIRS?.split(':') ?? [])
    dirs.push(...(d ? [d] : SYSTEM_TERMINFO_DIRS))
  dirs.push(...SYSTEM_TERMINFO_DIRS)
  return [...new Set(dirs)]
}

/**
 * The compiled terminfo entry of `term` on this machine (Linux `x/xterm`, macOS `78/xterm`
 * layouts), or undefined when there is none, the name is odd, or it is too large to send.
 */
export function terminfoEntry(
  term: string,
  env: Env,
  home: string,
  read: (path: string) => Buffer = (p) => readFileSync(p),
): Buffer | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(term)) return undefined
  const first = term[0] as string
  for (const dir of terminfoDirs(env, home)) {
    for (const sub of [first, first.charCodeAt(0).toString(16)]) {
      let data: Buffer
      try {
        data = read(join(dir, sub, term))
      } catch {
        continue
      }
      return data.length > 0 && data.length <= MAX_TERMINFO_BYTES ? data : undefined
    }
  }
  return undefined
}

/**
 * What `sprite console` adds to the terminal's environment (§13.1): the local `SHELL`, which
 * `sprite-console` starts when the sprite has it, and `SPRITE_TERMINFO_DATA` (base64 of the
 * local terminal's compiled entry), which it installs so an uncommon `TERM` works inside.
 */
export function consoleEnv(
  terminalEnv: Readonly<Record<string, string>>,
  env: Env,
  home: string,
  read?: (path: string) => Buffer,
): Record<string, string> {
  const out: Record<string, string> = { ...terminalEnv }
  if (env.SHELL && /^\/[A-Za-z0-9._+/-]+$/.test(env.SHELL)) out.SHELL = env.SHELL
  const entry = env.TERM ? terminfoEntry(env.TERM, env, home, read) : undefined
  if (entry) out.SPRITE_TERMINFO_DATA = entry.toString('base64')
  return out
}
