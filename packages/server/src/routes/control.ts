import { SpritesError } from '@sprites/protocol'
import type { ModuleAPI } from '../module-api.ts'

const unsupported = () => new SpritesError('not_found', 'control connections are not supported')

/**
 * §4: `/v1/sprites/{name}/control` answers 404 for plain and upgrade requests alike, at once and
 * without looking the sprite up (so it never wakes one); clients then fall back to direct exec.
 */
export function controlRoutes(api: ModuleAPI): void {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
    api.route(method, '/v1/sprites/:name/control', () => {
      throw unsupported()
    })
  }
  api.upgrade('/v1/sprites/:name/control', () => {
    throw unsupported()
  })
}
