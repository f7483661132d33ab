import type { IncomingMessage } from 'node:http'
import { readJSON } from '../http/body.ts'
import { sendEmpty, sendJSON } from '../http/respond.ts'
import type { InSpriteAPI } from '../insprite/index.ts'
import type { TaskService } from './task-service.ts'

const MAX_BODY = 64 * 1024

/** The §11.1 task routes on `/.sprite/api.sock`; the scope is the calling sprite. */
export function installTaskRoutes(api: Pick<InSpriteAPI, 'route'>, tasks: TaskService): void {
  api.route('GET', '/v1/tasks', (c) => sendJSON(c.res, 200, { tasks: tasks.list(c.sprite.id) }))
  api.route('GET', '/v1/tasks/:name', (c) =>
    sendJSON(c.res, 200, tasks.get(c.sprite.id, c.params.name ?? '')),
  )
  api.route('POST', '/v1/tasks', async (c) => {
    const body = await objectBody(c.req)
    sendJSON(c.res, 201, tasks.create(c.sprite.id, body.name, body.expire))
  })
  api.route('PUT', '/v1/tasks', async (c) => {
    const body = await objectBody(c.req)
    sendJSON(c.res, 200, tasks.refresh(c.sprite.id, body.name, body.expire))
  })
  api.route('PUT', '/v1/tasks/:name', async (c) => {
    const body = await objectBody(c.req)
    sendJSON(c.res, 200, tasks.refresh(c.sprite.id, c.params.name, body.expire))
  })
  api.route('DELETE', '/v1/tasks/:name', (c) => {
    tasks.delete(c.sprite.id, c.params.name ?? '')
    sendEmpty(c.res, 204)
  })
}

async function objectBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJSON(req, MAX_BODY)
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {}
}
