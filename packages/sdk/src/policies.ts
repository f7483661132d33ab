import type { NetworkPolicy } from '@sprites/protocol'
import { request, requestJSON } from './http.ts'
import type { ResolvedOptions } from './options.ts'
import type { PrivilegesPolicy, ResourcesPolicy } from './types.ts'

type Loose = Record<string, unknown>

const path = (name: string, kind: string) => ['sprites', name, 'policy', kind]

/** §8.2 resources body → ResourcesPolicy (`limit_mb` → `limitMB`). */
export function resourcesFromWire(raw: unknown): ResourcesPolicy {
  const memory = ((raw ?? {}) as Loose).memory as Loose | undefined
  if (!memory || typeof memory.limit_mb !== 'number') return {}
  return { memory: { limitMB: memory.limit_mb, autoscale: memory.autoscale === true } }
}

/** ResourcesPolicy → §8.2 resources body. */
export function resourcesToWire(policy: ResourcesPolicy): Loose {
  if (!policy.memory) return {}
  const { limitMB, autoscale } = policy.memory
  return { memory: { limit_mb: limitMB, ...(autoscale === undefined ? {} : { autoscale }) } }
}

/** Policy calls of the client (§8), on its resolved options; none of them wakes the sprite. */
export const policyCalls = {
  async getNetwork(o: ResolvedOptions, name: string): Promise<NetworkPolicy> {
    const res = (await requestJSON(o, 'GET', path(name, 'network'))) as Loose | null
    return { rules: Array.isArray(res?.rules) ? (res.rules as NetworkPolicy['rules']) : [] }
  },
  async updateNetwork(o: ResolvedOptions, name: string, policy: NetworkPolicy): Promise<void> {
    await request(o, 'POST', path(name, 'network'), { json: policy })
  },
  async getPrivileges(o: ResolvedOptions, name: string): Promise<PrivilegesPolicy> {
    return ((await requestJSON(o, 'GET', path(name, 'privileges'))) ?? {}) as PrivilegesPolicy
  },
  async updatePrivileges(o: ResolvedOptions, name: string, policy: PrivilegesPolicy) {
    await request(o, 'POST', path(name, 'privileges'), { json: policy })
  },
  async getResources(o: ResolvedOptions, name: string): Promise<ResourcesPolicy> {
    return resourcesFromWire(await requestJSON(o, 'GET', path(name, 'resources')))
  },
  async updateResources(o: ResolvedOptions, name: string, policy: ResourcesPolicy) {
    await request(o, 'POST', path(name, 'resources'), { json: resourcesToWire(policy) })
  },
  async delete(o: ResolvedOptions, name: string, kind: 'privileges' | 'resources') {
    await request(o, 'DELETE', path(name, kind))
  },
}
