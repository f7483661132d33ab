// `includeAuto` on the checkpoint list (sprites-api.md §6 C2, §12.3) takes the §1.5 booleans.
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import type { SpriteRecord } from '@sprites/store'
import { installInSpriteCheckpointRoutes } from '../src/checkpoints/checkpoint-insprite.ts'
import { checkpointsModule } from '../src/checkpoints/checkpoint-routes.ts'
import type { CheckpointService } from '../src/checkpoints/checkpoint-service.ts'
import { noopLogger } from '../src/index.ts'
import type { InSpriteHandler } from '../src/insprite/insprite-api.ts'
import { startTestServer } from './harness.ts'

const CASES: [string, boolean][] = [
  ['', false],
  ['?includeAuto=true', true],
  ['?includeAuto=1', true],
  ['?includeAuto=TRUE', true],
  ['?includeAuto=false', false],
  ['?includeAuto=0', false],
  ['?include_auto=1', true],
]

/** A checkpoint service that records the options of each list call. */
function recordingService(seen: (boolean | undefined)[]): CheckpointService {
  return {
    list: async (_s: SpriteRecord, opts: { includeAuto?: boolean } = {}) => {
      seen.push(opts.includeAuto)
      return []
    },
  } as unknown as CheckpointService
}

test('GET /v1/sprites/{name}/checkpoints reads includeAuto as a boolean', async (t) => {
  const seen: (boolean | undefined)[] = []
  const h = await startTestServer(t, { modules: [checkpointsModule(recordingService(seen))] })
  assert.equal((await h.request('POST', '/v1/sprites', { body: { name: 'ck' } })).status, 201)
  for (const [query] of CASES) {
    const r = await h.request('GET', `/v1/sprites/ck/checkpoints${query}`)
    assert.equal(r.status, 200, query)
    assert.deepEqual(await r.json(), [])
  }
  assert.deepEqual(
    seen,
    CASES.map(([, want]) => want),
  )
})

test('GET /v1/checkpoints on api.sock reads includeAuto the same way', async () => {
  const seen: (boolean | undefined)[] = []
  const routes = new Map<string, InSpriteHandler>()
  installInSpriteCheckpointRoutes(
    { route: (method, path, handler) => void routes.set(`${method} ${path}`, handler) },
    recordingService(seen),
    noopLogger,
  )
  const list = routes.get('GET /v1/checkpoints')
  assert.ok(list)
  for (const [query] of CASES) {
    let status = 0
    const res = { writeHead: (s: number) => (status = s), end: () => undefined }
    const url = new URL(`http://sprite/v1/checkpoints${query}`)
    await list({
      sprite: { id: 'sprite-x' } as SpriteRecord,
      query: url.searchParams,
      res: res as unknown as ServerResponse,
    } as Parameters<InSpriteHandler>[0])
    assert.equal(status, 200, query)
  }
  assert.deepEqual(
    seen,
    CASES.map(([, want]) => want),
  )
})
