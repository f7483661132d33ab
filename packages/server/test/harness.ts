import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openSQLiteStore } from '@sprites/store'
import {
  createFakeSpriteHost,
  createSpritesServer,
  loadConfig,
  noopLogger,
  type ServerModule,
} from '../src/index.ts'

export interface HarnessOptions {
  modules?: ServerModule[]
  argv?: string[]
}

/** A server on 127.0.0.1:<random> with a temp SQLite store and the fake host, torn down in t.after. */
export async function startTestServer(t: TestContext, opts: HarnessOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sprites-server-'))
  const config = loadConfig({ HOME: dir }, [
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dir,
    ...(opts.argv ?? []),
  ])
  const store = openSQLiteStore(config.dbPath)
  const org = await store.createOrg('personal')
  const { token } = await store.createToken(org.id, 'test')
  const host = createFakeSpriteHost()
  const server = createSpritesServer({
    config,
    store,
    host,
    log: noopLogger,
    modules: opts.modules,
  })
  await server.start()
  t.after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const url = server.url()
  const request = (
    method: string,
    path: string,
    init: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers }
    const auth = init.token === undefined ? token : init.token
    if (auth !== null) headers.authorization = `Bearer ${auth}`
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body)
    return fetch(`${url}${path}`, { method, headers, body })
  }
  return { dir, config, store, org, token, host, server, url, request }
}
