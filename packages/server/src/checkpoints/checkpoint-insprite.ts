import { readJSON } from '../http/body.ts'
import { startNDJSON } from '../http/ndjson.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { InSpriteAPI } from '../insprite/index.ts'
import type { Logger } from '../logger.ts'
import { resolveCheckpointID } from './checkpoint-ids.ts'
import {
  checkpointStreams,
  includeAutoParam,
  parseCreateBody,
  streamEvent,
} from './checkpoint-routes.ts'
import type { CheckpointService } from './checkpoint-service.ts'

const MAX_BODY = 64 * 1024
/** A restore asked from inside waits this long after its answer, so the caller can read it. */
export const INSIDE_RESTORE_DELAY_MS = 1000

/**
 * The checkpoint routes of `/.sprite/api.sock` (sprites-api.md §12.3), scoped to the calling
 * sprite, so an agent can checkpoint and restore itself. A restore ends every process in the
 * sprite, the caller's too: it is answered first and carried out a second later.
 */
export function installInSpriteCheckpointRoutes(
  api: Pick<InSpriteAPI, 'route'>,
  service: CheckpointService,
  log: Logger,
): void {
  api.route('GET', '/v1/checkpoints', async (c) => {
    const includeAuto = includeAutoParam(c.query)
    sendJSON(
      c.res,
      200,
      await service.list(c.sprite, { history: c.query.get('history'), includeAuto }),
    )
  })
  api.route('GET', '/v1/checkpoints/:id', async (c) => {
    sendJSON(c.res, 200, await service.get(c.sprite, c.params.id ?? ''))
  })
  api.route('DELETE', '/v1/checkpoints/:id', async (c) => {
    await service.delete(c.sprite, c.params.id ?? '')
    sendEmpty(c.res, 204)
  })
  api.route('POST', '/v1/checkpoint', async (c) => {
    const comment = parseCreateBody(await readJSON(c.req, MAX_BODY))
    await checkpointStreams.create(c, service, c.sprite, comment)
  })
  api.route('POST', '/v1/checkpoints/:id/restore', async (c) => {
    const id = c.params.id ?? ''
    const canonical = resolveCheckpointID(id, true)
    await service.get(c.sprite, id)
    // The caller runs inside the sprite the restore replaces: it hears this much, then the
    // restore starts (its failure can only be logged; `Restore complete` never reaches it).
    const stream = startNDJSON(c.res)
    stream.write(streamEvent('info', `Restoring checkpoint ${canonical}...`))
    stream.write(streamEvent('complete', 'Environment restarting'))
    stream.end()
    const sprite = c.sprite
    setTimeout(() => {
      service
        .restore(sprite, id, () => {})
        .catch((err: unknown) => {
          log.error(
            { err, spriteID: sprite.id, checkpoint: id },
            'restore asked from inside failed',
          )
        })
    }, INSIDE_RESTORE_DELAY_MS).unref()
  })
}
