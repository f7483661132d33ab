import type { Duplex } from 'node:stream'
import { assertSpriteName, SpritesError } from '@sprites/protocol'
import { checkpointCalls } from './checkpoints.ts'
import {
  createBodyToWire,
  killEventFromWire,
  orgFromWire,
  sessionFromWire,
  spriteFromWire,
  spriteListFromWire,
  updateBodyToWire,
} from './convert.ts'
import { type ExecHTTPOptions, type ExecOptions, execHTTPQuery, execQuery } from './exec-options.ts'
import { ExecSession } from './exec-session.ts'
import { SpriteFilesystem } from './filesystem.ts'
import { apiURL, type Query, request, requestJSON } from './http.ts'
import { readHTTPExec } from './http-exec.ts'
import { readNDJSON } from './ndjson.ts'
import { type ResolvedOptions, resolveOptions, type SpritesClientOptions } from './options.ts'
import { policyCalls } from './policies.ts'
import { PortProxy, type PortProxyOptions } from './port-proxy.ts'
import { PortWatch } from './port-watch.ts'
import { openProxyConnection } from './proxy-connection.ts'
import { type SpriteWatchEvent, type WatchSpritesOptions, watchSprites } from './sprite-watch.ts'
import type {
  Checkpoint,
  CheckpointEvent,
  CreateSpriteOptions,
  ExecResult,
  KillEvent,
  KillSessionOptions,
  ListCheckpointsOptions,
  ListSpritesOptions,
  NetworkPolicy,
  Organization,
  PrivilegesPolicy,
  ResourcesPolicy,
  SessionSummary,
  Sprite,
  SpriteList,
  UpdateSpriteOptions,
} from './types.ts'

/** Create may allocate storage and a first checkpoint: it gets a longer deadline. */
const CREATE_TIMEOUT_MS = 120_000

/**
 * Client of a Sprites-compatible API.
 * @throws SpritesError invalid_argument from the constructor when an option is missing or invalid
 * @example
 * const client = new SpritesClient({ baseURL: 'http://127.0.0.1:8080', token: process.env.SPRITE_TOKEN! })
 * const session = client.exec('my-sprite', ['uname', '-a'])
 * session.on('stdout', (b) => process.stdout.write(b))
 * const code = await session.wait()
 */
export class SpritesClient {
  readonly #o: ResolvedOptions

  constructor(options: SpritesClientOptions) {
    this.#o = resolveOptions(options)
  }

  /** The API base URL, without a trailing slash. */
  get baseURL(): string {
    return this.#o.baseURL
  }

  /** Creates a sprite (M1). @throws SpritesError `sprite_already_exists`, `invalid_argument` */
  async createSprite(name: string, opts: CreateSpriteOptions = {}): Promise<Sprite> {
    assertSpriteName(name)
    const body = createBodyToWire(name, opts)
    const res = await requestJSON(this.#o, 'POST', ['sprites'], {
      json: body,
      timeoutMs: Math.max(this.#o.timeoutMs, CREATE_TIMEOUT_MS),
    })
    return spriteFromWire(res)
  }

  /** Reads one sprite without waking it (M4). @throws SpritesError `sprite_not_found` */
  async getSprite(name: string): Promise<Sprite> {
    return spriteFromWire(await requestJSON(this.#o, 'GET', ['sprites', name]))
  }

  /** Reads one page of sprites, sorted by name (M2). */
  async listSprites(opts: ListSpritesOptions = {}): Promise<SpriteList> {
    const query: Query = {
      prefix: opts.prefix || undefined,
      max_results: opts.maxResults,
      continuation_token: opts.continuationToken || undefined,
    }
    return spriteListFromWire(await requestJSON(this.#o, 'GET', ['sprites'], { query }))
  }

  /** Every sprite whose name starts with `prefix`, following continuation tokens. */
  async *listAllSprites(prefix?: string): AsyncGenerator<Sprite> {
    let continuationToken: string | undefined
    for (;;) {
      const page = await this.listSprites({ prefix, continuationToken })
      yield* page.sprites
      if (!page.hasMore || !page.nextContinuationToken) return
      continuationToken = page.nextContinuationToken
    }
  }

  /**
   * Follows the list (M3): one event per matching sprite, then one per status change, and
   * heartbeats, until `opts.signal` aborts.
   * @example for await (const e of client.watchSprites({ signal })) if (e.type === 'sprite') console.log(e.name, e.status)
   */
  watchSprites(opts: WatchSpritesOptions = {}): AsyncGenerator<SpriteWatchEvent> {
    return watchSprites(this.#o, opts)
  }

  /** The files of one sprite (§5); relative paths start at `workingDir` (default `/home/sprite`). */
  filesystem(name: string, workingDir?: string): SpriteFilesystem {
    return new SpriteFilesystem(this.#o, name, workingDir)
  }

  /** Replaces labels and/or URL settings (M5). @throws SpritesError `invalid_argument` when empty */
  async updateSprite(name: string, opts: UpdateSpriteOptions): Promise<Sprite> {
    const body = updateBodyToWire(opts)
    if (Object.keys(body).length === 0) {
      throw new SpritesError('invalid_argument', 'updateSprite needs `labels` or `urlSettings`')
    }
    return spriteFromWire(await requestJSON(this.#o, 'PUT', ['sprites', name], { json: body }))
  }

  /** Deletes a sprite and everything in it (M6). Irreversible. */
  async deleteSprite(name: string): Promise<void> {
    await request(this.#o, 'DELETE', ['sprites', name])
  }

  /** The token's organization (M10). */
  async org(): Promise<Organization> {
    return orgFromWire(await requestJSON(this.#o, 'GET', ['organization']))
  }

  /**
   * Starts a command over a WebSocket (§3). Errors arrive through `wait()`.
   * @throws SpritesError invalid_argument for an empty argv
   */
  exec(name: string, argv: readonly string[], opts: ExecOptions = {}): ExecSession {
    const url = apiURL(this.#o.baseURL, ['sprites', name, 'exec'], execQuery(argv, opts))
    return this.#connect(url, opts.tty === true)
  }

  /** Attaches to a running session (§3.8); the mode follows the session's `session_info`. */
  attach(name: string, sessionID: number | string): ExecSession {
    const url = apiURL(this.#o.baseURL, ['sprites', name, 'exec', sessionID], { stdin: true })
    return this.#connect(url, false)
  }

  /** Lists a sprite's running sessions, oldest first (§3.10). */
  async listSessions(name: string): Promise<SessionSummary[]> {
    const res = (await requestJSON(this.#o, 'GET', ['sprites', name, 'exec'])) as {
      sessions?: unknown[]
    } | null
    return (res?.sessions ?? []).map(sessionFromWire)
  }

  /**
   * Signals a session and follows it until it ends (§3.11); the last event is `complete`.
   * @throws SpritesError `session_not_found`, `session_exited` (on the first iteration)
   */
  async *killSession(
    name: string,
    id: number | string,
    opts: KillSessionOptions = {},
  ): AsyncGenerator<KillEvent> {
    const query: Query = { signal: opts.signal, timeout: opts.timeout }
    const res = await request(this.#o, 'POST', ['sprites', name, 'exec', id, 'kill'], {
      query,
      accept: 'application/x-ndjson',
      timeoutMs: null,
    })
    for await (const line of readNDJSON(res.body)) yield killEventFromWire(line)
  }

  /** Runs a command over one HTTP request (§3.12) and collects its output. */
  async execHTTP(
    name: string,
    argv: readonly string[],
    opts: ExecHTTPOptions = {},
  ): Promise<ExecResult> {
    const res = await request(this.#o, 'POST', ['sprites', name, 'exec'], {
      query: execHTTPQuery(argv, opts),
      body: opts.stdin ?? new Uint8Array(0),
      timeoutMs: null,
    })
    return readHTTPExec(res.body)
  }

  /** Takes a checkpoint (C1); the last event is `complete` with the new `id`. */
  createCheckpoint(name: string, comment?: string): AsyncGenerator<CheckpointEvent> {
    return checkpointCalls.create(this.#o, name, comment)
  }

  /** Lists checkpoints, newest first (C2). */
  listCheckpoints(name: string, opts: ListCheckpointsOptions = {}): Promise<Checkpoint[]> {
    return checkpointCalls.list(this.#o, name, opts)
  }

  /** Reads one checkpoint (C3); `v3` and `3` both work. @throws SpritesError `checkpoint_not_found` */
  getCheckpoint(name: string, id: string): Promise<Checkpoint> {
    return checkpointCalls.get(this.#o, name, id)
  }

  /** Deletes a checkpoint (C5). @throws SpritesError `conflict` for `v0` and the current one */
  deleteCheckpoint(name: string, id: string): Promise<void> {
    return checkpointCalls.delete(this.#o, name, id)
  }

  /** Restores a checkpoint (C4): sessions end and the sprite restarts on the restored disk. */
  restoreCheckpoint(name: string, id: string): AsyncGenerator<CheckpointEvent> {
    return checkpointCalls.restore(this.#o, name, id)
  }

  /** The network egress policy (§8.1); `{rules: []}` means no enforcement. Does not wake. */
  getNetworkPolicy(name: string): Promise<NetworkPolicy> {
    return policyCalls.getNetwork(this.#o, name)
  }

  /**
   * Replaces every network rule (§8.1); applies within about a second to a running sprite.
   * @throws SpritesError `invalid_argument` with the server's `invalid policy: …` message
   */
  updateNetworkPolicy(name: string, policy: NetworkPolicy): Promise<void> {
    return policyCalls.updateNetwork(this.#o, name, policy)
  }

  /** The privileges policy (§8.2); `{}` when unset. */
  getPrivilegesPolicy(name: string): Promise<PrivilegesPolicy> {
    return policyCalls.getPrivileges(this.#o, name)
  }

  /** Replaces the privileges policy (§8.2; stored only in v1). @throws SpritesError `invalid_argument` */
  updatePrivilegesPolicy(name: string, policy: PrivilegesPolicy): Promise<void> {
    return policyCalls.updatePrivileges(this.#o, name, policy)
  }

  /** Removes the privileges policy (§8.2). */
  deletePrivilegesPolicy(name: string): Promise<void> {
    return policyCalls.delete(this.#o, name, 'privileges')
  }

  /** The resources policy (§8.2); `{}` when unset. */
  getResourcesPolicy(name: string): Promise<ResourcesPolicy> {
    return policyCalls.getResources(this.#o, name)
  }

  /**
   * Replaces the resources policy (§8.2); `memory.limitMB` is the memory limit from the next
   * cold boot. @throws SpritesError `invalid_argument` outside 64 MiB-1 TiB
   */
  updateResourcesPolicy(name: string, policy: ResourcesPolicy): Promise<void> {
    return policyCalls.updateResources(this.#o, name, policy)
  }

  /** Removes the resources policy: the next boot uses `config.ramMB` again (§8.2). */
  deleteResourcesPolicy(name: string): Promise<void> {
    return policyCalls.delete(this.#o, name, 'resources')
  }

  /**
   * Follows the sprite's TCP listeners (§9.2); resolves once the initial list arrived. Does not
   * wake the sprite.
   */
  watchPorts(name: string): Promise<PortWatch> {
    return PortWatch.open(this.#o, name)
  }

  /**
   * One TCP connection to `host:port` inside the sprite (§9.1), as a Duplex; wakes the sprite.
   * @throws SpritesError `bad_gateway` when nothing accepts the connection
   */
  openProxy(name: string, host: string, port: number): Promise<Duplex> {
    return openProxyConnection(this.#o, name, host, port)
  }

  /**
   * Listens on a local port and forwards every connection to a port in the sprite (§9.1).
   * @throws the local listen error (e.g. `EADDRINUSE`)
   * @example const p = await client.proxyPort('web', { localPort: 0, remotePort: 8080 }); p.localPort
   */
  proxyPort(name: string, opts: PortProxyOptions): Promise<PortProxy> {
    const host = opts.remoteHost ?? 'localhost'
    return PortProxy.listen(() => this.openProxy(name, host, opts.remotePort), opts)
  }

  #connect(httpURL: string, tty: boolean): ExecSession {
    const url = httpURL.replace(/^http/, 'ws')
    const ws = new this.#o.WebSocket(url, { headers: { Authorization: `Bearer ${this.#o.token}` } })
    return new ExecSession(ws, { tty })
  }
}
