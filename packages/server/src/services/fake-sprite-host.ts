import type { SpriteStatus } from '@sprites/protocol'
import type { SpriteRecord } from '@sprites/store'
import type { SpriteHost, SpriteStatusEvent } from './sprite-host.ts'

export type FakeHostCall = {
  op: 'provision' | 'destroy' | 'restart' | 'upgrade'
  spriteID: string
  name: string
}

/** An in-memory SpriteHost for tests: records calls, holds statuses, fails on request. */
export interface FakeSpriteHost extends SpriteHost {
  readonly calls: FakeHostCall[]
  /** Makes the next calls of `op` reject with `error` (until cleared with null). */
  failNext(op: 'provision' | 'destroy', error: Error | null): void
  /** Sets a sprite's live status and notifies subscribers. */
  setStatus(spriteID: string, status: SpriteStatus): void
  /** Ids of sprites provisioned and not destroyed. */
  readonly provisioned: ReadonlySet<string>
  /** Sets the installed image version (`imageVersion()`; unset = the service's "unknown"). */
  setImageVersion(version: string): void
}

export function createFakeSpriteHost(): FakeSpriteHost {
  const calls: FakeHostCall[] = []
  const failures = new Map<string, Error>()
  const statuses = new Map<string, SpriteStatus>()
  const provisioned = new Set<string>()
  const listeners = new Set<(e: SpriteStatusEvent) => void>()
  let image: string | undefined
  const record = (op: FakeHostCall['op'], s: SpriteRecord) => {
    calls.push({ op, spriteID: s.id, name: s.name })
    const err = failures.get(op)
    if (err) throw err
  }
  const setStatus = (spriteID: string, status: SpriteStatus) => {
    statuses.set(spriteID, status)
    for (const l of listeners) l({ spriteID, status, at: new Date() })
  }
  return {
    calls,
    provisioned,
    failNext: (op, error) => (error ? failures.set(op, error) : failures.delete(op)),
    setStatus,
    async provision(s) {
      record('provision', s)
      provisioned.add(s.id)
    },
    async destroy(s) {
      record('destroy', s)
      provisioned.delete(s.id)
      statuses.delete(s.id)
    },
    status: (s) => statuses.get(s.id) ?? 'cold',
    async restart(s) {
      record('restart', s)
      setStatus(s.id, 'running')
      return { machineID: `fake-${s.slot}` }
    },
    async upgrade(s) {
      record('upgrade', s)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    setImageVersion: (v) => {
      image = v
    },
    imageVersion: () => image ?? 'unknown',
  }
}
