import type { Store } from '@sprites/store'
import type { ActivityReporter } from './activity.ts'

const SPRITE_PATH = /^\/v1\/sprites\/([^/]+)\/(.+)$/

/**
 * The sprite whose env-API request counts as activity (sprites-api.md §11), or null: metadata
 * calls (get, list, check, session list, HEAD exec), `/control`, policy, watch sockets and the
 * checkpoint calls that work on a sleeping sprite's disk do not count.
 */
export function activeSpriteName(method: string, path: string): string | null {
  const m = SPRITE_PATH.exec(path)
  if (!m) return null
  const rest = (m[2] ?? '').replace(/\/+$/, '')
  if (rest === 'check' || rest === 'control' || rest.startsWith('policy')) return null
  if (rest.endsWith('/watch') || rest === 'ports/watch') return null
  if (rest === 'exec' && (method === 'HEAD' || method === 'GET')) return null
  if (rest === 'checkpoint') return null
  if (rest.startsWith('checkpoints') && !rest.endsWith('/restore')) return null
  return decodeURIComponent(m[1] ?? '')
}

/**
 * The dispatch hook that holds a sprite busy for as long as a counting request is in flight
 * (until its response closes, which covers NDJSON streams).
 */
export function requestActivity(
  store: Pick<Store, 'getSprite'>,
  activity: ActivityReporter,
): (method: string, path: string, orgID: string) => (() => void) | undefined {
  return (method, path, orgID) => {
    const name = activeSpriteName(method, path)
    if (name === null) return undefined
    let release: (() => void) | undefined
    let done = false
    void store.getSprite(orgID, name).then(
      (sprite) => {
        if (!sprite) return
        if (done) activity.touch(sprite.id)
        else release = activity.hold(sprite.id)
      },
      () => undefined,
    )
    return () => {
      done = true
      release?.()
    }
  }
}
