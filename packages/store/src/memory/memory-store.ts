import { errors, type SpriteStatus, SpritesError } from '@sprites/protocol'
import { assertOrgSlug } from '../org-slug.ts'
import { applyPatch, buildSprite, duplicateName } from '../records.ts'
import type {
  ListSpritesOptions,
  NewSprite,
  OrgRecord,
  SpritePatch,
  SpriteRecord,
  Store,
  TokenRecord,
} from '../store.ts'
import {
  hashToken,
  isWellFormedToken,
  lowestFreeSlot,
  newOrgID,
  newToken,
  newTokenID,
} from '../tokens.ts'
import { memoryCheckpoints } from './memory-checkpoints.ts'

export interface MemoryStoreOptions {
  /** Time source for created/updated stamps. @default () => new Date() */
  now?: () => Date
}

interface MemoryState {
  orgs: Map<string, OrgRecord>
  tokens: Map<string, { hash: string; record: TokenRecord }>
  sprites: Map<string, SpriteRecord>
}

const copy = <T>(v: T): T => structuredClone(v)

/**
 * A Store held in memory, for tests. It passes the same contract suite as the SQLite store and
 * hands out copies, so callers cannot change its state without going through the interface.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const now = options.now ?? (() => new Date())
  const s: MemoryState = { orgs: new Map(), tokens: new Map(), sprites: new Map() }
  const { forget, ...checkpoints } = memoryCheckpoints(now)
  const sprites = spriteMethods(s, now)
  return {
    ...orgMethods(s, now),
    ...tokenMethods(s, now),
    ...sprites,
    ...checkpoints,
    async deleteSprite(id: string) {
      await sprites.deleteSprite(id)
      forget(id)
    },
    async close() {},
  }
}

function orgMethods(s: MemoryState, now: () => Date) {
  const bySlug = (slug: string) => [...s.orgs.values()].find((o) => o.slug === slug) ?? null
  return {
    async createOrg(slug: string): Promise<OrgRecord> {
      assertOrgSlug(slug)
      if (bySlug(slug)) throw new SpritesError('conflict', `org ${slug} already exists`)
      let id = newOrgID()
      while (s.orgs.has(id)) id = newOrgID()
      const org = { id, slug, createdAt: now() }
      s.orgs.set(id, org)
      return copy(org)
    },
    async getOrg(id: string) {
      const org = s.orgs.get(id)
      return org ? copy(org) : null
    },
    async getOrgBySlug(slug: string) {
      const org = bySlug(slug)
      return org ? copy(org) : null
    },
    async listOrgs() {
      return [...s.orgs.values()].sort((a, b) => cmp(a.slug, b.slug)).map(copy)
    },
  }
}

function tokenMethods(s: MemoryState, now: () => Date) {
  return {
    async createToken(orgID: string, description: string) {
      const org = s.orgs.get(orgID)
      if (!org) throw errors.invalid(`unknown org id ${orgID}`)
      const record: TokenRecord = { id: newTokenID(), orgID, description, createdAt: now() }
      const token = newToken(org.slug, org.id, record.id)
      s.tokens.set(record.id, { hash: hashToken(token), record })
      return { token, record: copy(record) }
    },
    async resolveToken(token: string) {
      if (!isWellFormedToken(token)) return null
      const hash = hashToken(token)
      const hit = [...s.tokens.values()].find((t) => t.hash === hash)
      const org = hit && s.orgs.get(hit.record.orgID)
      return hit && org ? { org: copy(org), token: copy(hit.record) } : null
    },
    async revokeToken(tokenID: string) {
      s.tokens.delete(tokenID)
    },
    async getToken(tokenID: string) {
      const hit = s.tokens.get(tokenID)
      return hit ? copy(hit.record) : null
    },
    async listTokens(orgID: string) {
      return [...s.tokens.values()]
        .map((t) => t.record)
        .filter((r) => r.orgID === orgID)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(copy)
    },
  }
}

function spriteMethods(s: MemoryState, now: () => Date) {
  const live = () => [...s.sprites.values()]
  const mustGet = (id: string) => {
    const sprite = s.sprites.get(id)
    if (!sprite) throw new SpritesError('sprite_not_found', `sprite not found: ${id}`)
    return sprite
  }
  return {
    async insertSprite(input: NewSprite) {
      if (!s.orgs.has(input.orgID)) throw errors.invalid(`unknown org id ${input.orgID}`)
      if (live().some((x) => x.orgID === input.orgID && x.name === input.name)) {
        throw duplicateName(input.name)
      }
      const sprite = buildSprite(input, lowestFreeSlot(live().map((x) => x.slot)), now())
      s.sprites.set(sprite.id, sprite)
      return copy(sprite)
    },
    async getSprite(orgID: string, name: string) {
      const hit = live().find((x) => x.orgID === orgID && x.name === name)
      return hit ? copy(hit) : null
    },
    async getSpriteByID(id: string) {
      const hit = s.sprites.get(id)
      return hit ? copy(hit) : null
    },
    async listSprites(orgID: string, opts: ListSpritesOptions) {
      return live()
        .filter((x) => x.orgID === orgID && matches(x.name, opts))
        .sort((a, b) => cmp(a.name, b.name))
        .slice(0, Math.max(0, opts.limit))
        .map(copy)
    },
    async listAllSprites() {
      return live()
        .sort((a, b) => cmp(a.orgID, b.orgID) || cmp(a.name, b.name))
        .map(copy)
    },
    async countSprites(orgID: string) {
      const counts: Record<SpriteStatus, number> = { cold: 0, warm: 0, running: 0 }
      for (const x of live()) if (x.orgID === orgID) counts[x.status]++
      return counts
    },
    async updateSprite(id: string, patch: SpritePatch) {
      const next = applyPatch(mustGet(id), patch, now())
      s.sprites.set(id, next)
      return copy(next)
    },
    async deleteSprite(id: string) {
      s.sprites.delete(id)
    },
  }
}

/** Byte-order comparison, the order SQLite's BINARY collation gives. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function matches(name: string, opts: ListSpritesOptions): boolean {
  if (opts.prefix && !name.startsWith(opts.prefix)) return false
  return opts.after === undefined || name > opts.after
}
