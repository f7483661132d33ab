import type { Probe } from './probe.ts'
import { mustRun } from './proc.ts'

/** `/bin/true` spawned from Node: the floor under every step that execs a program. */
export function createSpawnProbe(): Probe {
  return {
    rows: [{ key: 'spawn_true', label: 'spawn /bin/true from Node' }],
    async measure() {
      return { spawn_true: await mustRun('/bin/true', []) }
    },
    async cleanup() {},
  }
}
