import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { join } from 'node:path'
import type { Sandbox } from '@sprites/runtime'
import type { RecipeEntry } from '@sprites/storage'
import type { SpriteRecord } from '@sprites/store'
import type { Logger } from '../logger.ts'
import { runRoot } from '../supervisor/root-command.ts'

/** Where the base image records its version inside every sprite. */
export const VERSION_FILE = '.sprite/version.txt'

// Reads `<kind> <mode> <path> [base64]` lines: `d` makes a missing directory, `f` replaces a file
// through a rename. Runs as root inside the sprite, so paths resolve in the sprite's own tree.
// version.txt comes last: an interrupted refresh is redone at the next boot.
const APPLY = `set -e
while read -r kind mode path data; do
  case "$kind" in
    d) [ -d "/$path" ] || { mkdir -p "/$path"; chmod "$mode" "/$path"; } ;;
    f) printf '%s' "$data" | base64 -d > "/$path.sprite-new"
       chown 0:0 "/$path.sprite-new"; chmod "$mode" "/$path.sprite-new"
       mv -f "/$path.sprite-new" "/$path" ;;
  esac
done`

export interface SystemFilesOptions {
  /** The installed base image's files (`recipeFiles`), `.sprite/version.txt` among them. */
  files: readonly RecipeEntry[]
  log: Logger
}

/**
 * M7 in a design without a separate base layer: a sprite's root filesystem is its own disk,
 * cloned from the image at create. Once a sprite is upgraded (its record names the installed
 * image) while its disk still carries an older image's `/.sprite/version.txt`, the next cold
 * boot rewrites the files the image manages — `/.sprite/llm.txt`, `version.txt`, the profile
 * script, the sudoers and locale entries — and nothing else: packages and every other file are
 * the sprite's own and stay as they are.
 */
export function createSystemFiles(o: SystemFilesOptions) {
  const versionEntry = o.files.find((f) => f.path === VERSION_FILE)
  const version = versionEntry?.content?.trim()
  if (!version) throw new Error(`the base image's files lack ${VERSION_FILE}`)
  const ordered = [...o.files.filter((f) => f !== versionEntry), versionEntry as RecipeEntry]
  const input = `${ordered.map(line).join('\n')}\n`

  return {
    /** The installed image version these files belong to. */
    version,
    /**
     * Before anything runs in a freshly booted sprite: brings its system files to the installed
     * image when it was upgraded to it. Resolves true when files were written.
     */
    async refresh(sprite: SpriteRecord, rootfs: string, sandbox: Sandbox): Promise<boolean> {
      if (sprite.version !== version) return false
      if ((await diskVersion(rootfs)) === version) return false
      // Bounded: the sprite's own /bin/sh runs this, and the boot waits for it.
      const r = await runRoot(sandbox, APPLY, ['sh'], input, {
        timeoutMs: 15_000,
        maxOutputBytes: 64 * 1024,
      })
      if (r.code !== 0) {
        throw new Error(`could not update the system files: ${r.stderr.trim() || `exit ${r.code}`}`)
      }
      o.log.info({ spriteID: sprite.id, version }, 'system files updated to the installed image')
      return true
    },
  }
}

function line(e: RecipeEntry): string {
  const mode = e.mode.toString(8)
  if (e.content === undefined) return `d ${mode} ${e.path}`
  return `f ${mode} ${e.path} ${Buffer.from(e.content).toString('base64')}`
}

/**
 * The version a sprite's disk says it has, read from the host through its mounted root without
 * following links the sprite may have planted (`/.sprite` must be a directory, the file a file).
 */
export async function diskVersion(rootfs: string): Promise<string | undefined> {
  try {
    if (!(await lstat(join(rootfs, '.sprite'))).isDirectory()) return undefined
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK
    const fh = await open(join(rootfs, VERSION_FILE), flags)
    try {
      const buf = Buffer.alloc(256)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      return buf.subarray(0, bytesRead).toString('utf8').trim()
    } finally {
      await fh.close()
    }
  } catch {
    return undefined
  }
}
