// The user-visible latencies, measured through spritesd's wire API.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Probe } from './probe.ts'
import {
  createSprite,
  deleteSprite,
  execHTTP,
  execWebSocket,
  type ServerEndpoint,
} from './sprites-api.ts'

/** Names of every sprite the benchmark created and has not deleted yet. */
export type SpriteLedger = Set<string>

function spriteName(kind: string): string {
  return `bench-${kind}-${randomBytes(3).toString('hex')}`
}

async function removeSprite(s: ServerEndpoint, ledger: SpriteLedger, name: string): Promise<void> {
  await deleteSprite(s, name)
  ledger.delete(name)
}

/**
 * POST /v1/sprites, then `echo hi` over the exec WebSocket until the first stdout frame: this
 * includes the sprite's cold boot. Deleting the sprite afterwards is not timed.
 */
export function createColdStartProbe(s: ServerEndpoint, ledger: SpriteLedger): Probe {
  return {
    rows: [
      {
        key: 'create_to_first_output',
        label: 'create → first exec output (cold)',
        targetP50Ms: 300,
      },
    ],
    async measure() {
      const name = spriteName('cold')
      const t0 = performance.now()
      ledger.add(name)
      await createSprite(s, name)
      const run = execWebSocket(s, name, ['echo', 'hi'])
      const first = await run.firstStdout
      const { code } = await run.exit
      if (code !== 0 || Number.isNaN(first)) throw new Error(`echo hi exited ${code}`)
      await removeSprite(s, ledger, name)
      return { create_to_first_output: first - t0 }
    },
    async cleanup() {},
  }
}

/** Round trips of `true` on one running sprite, over the WebSocket and over HTTP. */
export async function createWarmExecProbe(s: ServerEndpoint, ledger: SpriteLedger) {
  const name = spriteName('warm')
  ledger.add(name)
  await createSprite(s, name)
  const probe: Probe = {
    rows: [
      { key: 'exec_true_ws', label: 'exec true, WebSocket (running sprite)', targetP50Ms: 15 },
      { key: 'exec_true_http', label: 'exec true, POST /exec (running sprite)' },
    ],
    async measure() {
      const t0 = performance.now()
      const ws = await execWebSocket(s, name, ['true']).exit
      const t1 = performance.now()
      const httpCode = await execHTTP(s, name, ['true'])
      const t2 = performance.now()
      if (ws.code !== 0 || httpCode !== 0) throw new Error(`true exited ${ws.code}/${httpCode}`)
      return { exec_true_ws: ws.at - t0, exec_true_http: t2 - t1 }
    },
    cleanup: () => removeSprite(s, ledger, name),
  }
  return probe
}
