/**
 * Named points at which a test can make spritesd SIGKILL itself (`SPRITES_TEST_KILL_POINT`), to
 * prove that start-up reconciliation recovers from a crash at that exact moment.
 */
export const KILL_POINTS = [
  'create:after-disk',
  'create:before-disk',
  'delete:after-stop',
  'delete:after-disk',
  'wake:after-attach',
  'wake:after-start',
  'hibernate:after-freeze',
  'cold:after-stop',
] as const

export type KillPointName = (typeof KILL_POINTS)[number]

/**
 * The kill-point hook of the configured point: SIGKILLs this process when that point is reached,
 * and does nothing at any other; undefined when no point is configured.
 */
export function killPointHook(
  configured: string | null,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): ((point: KillPointName) => void) | undefined {
  if (!configured) return undefined
  return (point) => {
    if (point === configured) kill()
  }
}
