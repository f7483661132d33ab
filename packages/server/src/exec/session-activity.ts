import type { ActivityReporter } from '../lifecycle/activity.ts'
import type { ExecSession } from './session.ts'

/**
 * Reports a session's activity (D5): a hold while at least one client is attached, a touch on
 * every output chunk (a detached session keeps the sprite running only while it produces output).
 */
export function trackSessionActivity(
  spriteID: string,
  session: ExecSession,
  activity: ActivityReporter,
): void {
  let release: (() => void) | undefined
  const setHeld = (held: boolean) => {
    if (held && !release) release = activity.hold(spriteID)
    if (!held && release) {
      release()
      release = undefined
    }
  }
  setHeld(session.clientCount > 0)
  session.on('clients', (n: number) => setHeld(n > 0))
  session.on('activity', () => activity.touch(spriteID))
  session.once('exit', () => setHeld(false))
}
