import { errors } from '@sprites/protocol'
import type { Sandbox } from '@sprites/runtime'
import { runRoot } from './root-command.ts'
import { decodeStored, encodeStored, type StoredService } from './service-definition.ts'

/** Where definitions live on the sprite's own disk, so checkpoints capture them. */
export const SERVICES_DIR = '/.sprite/services'

const LOAD = `for f in ${SERVICES_DIR}/*.json; do [ -f "$f" ] && { cat "$f"; echo; }; done; true`
const SAVE = `mkdir -p ${SERVICES_DIR} && cat > "$0.tmp" && mv -f "$0.tmp" "$0"`
const REMOVE = 'rm -f "$0"'

/** Reads, writes and removes service definitions inside a running sprite, as root. */
export const serviceFiles = {
  /** Every readable definition; damaged files are skipped and reported through `onBad`. */
  async load(sandbox: Sandbox, onBad?: (line: string) => void): Promise<StoredService[]> {
    const r = await runRoot(sandbox, LOAD, ['sh'])
    const out: StoredService[] = []
    for (const line of r.stdout.split('\n')) {
      if (line.trim() === '') continue
      const s = decodeStored(line)
      if (s) out.push(s)
      else onBad?.(line.slice(0, 200))
    }
    return out
  },

  /** Writes a definition atomically (temp file, then rename). */
  async save(sandbox: Sandbox, s: StoredService): Promise<void> {
    const r = await runRoot(sandbox, SAVE, [fileOf(s.name)], `${encodeStored(s)}\n`)
    if (r.code !== 0) throw errors.internal(`could not save service ${s.name}: ${r.stderr.trim()}`)
  },

  async remove(sandbox: Sandbox, name: string): Promise<void> {
    const r = await runRoot(sandbox, REMOVE, [fileOf(name)])
    if (r.code !== 0) throw errors.internal(`could not remove service ${name}: ${r.stderr.trim()}`)
  },
}

function fileOf(name: string): string {
  return `${SERVICES_DIR}/${name}.json`
}
