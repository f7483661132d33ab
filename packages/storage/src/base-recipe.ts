import { createHash } from 'node:crypto'
import { LLM_GUIDE } from './llm-guide.ts'

/** A file or directory the recipe places into the image (paths relative to `/`). */
export interface RecipeEntry {
  readonly path: string
  readonly mode: number
  /** File content; absent for a directory. */
  readonly content?: string
}

/** Everything that determines the base image's content; its hash keys the caches. */
export interface BaseRecipe {
  readonly suite: string
  readonly variant: string
  readonly mirrors: readonly string[]
  readonly packages: readonly string[]
  /** mmdebstrap customize hooks, run by `sh` with the root directory as `$1`. */
  readonly hooks: readonly string[]
  readonly entries: readonly RecipeEntry[]
}

/** uid and gid of the `sprite` user inside every sprite. */
export const SPRITE_UID = 1001

const PACKAGES = [
  'bash',
  'coreutils',
  'sudo',
  'curl',
  'ca-certificates',
  'git',
  'python3',
  'procps',
  'iproute2',
  'less',
  'vim-tiny',
]

const SUDOERS = 'sprite ALL=(ALL:ALL) NOPASSWD: ALL\n'

const PROFILE = `# Sprite tools come first in PATH.
case ":$PATH:" in *:/.sprite/bin:*) ;; *) PATH="/.sprite/bin:$PATH" ;; esac
export PATH
# Programs that open a browser reach the attached user's (sprite-browser).
: "\${BROWSER:=/.sprite/bin/sprite-browser}"
export BROWSER
`

/** The system's login-shell hook: runs the sprite's own shell init (§12.2). */
const PROFILE_LOADER = `# Shell init of the sprite environment lives in /.sprite/etc/profile.d.
for f in /.sprite/etc/profile.d/*.sh; do
  [ -r "$f" ] && . "$f"
done
unset f
`

const HOOKS = [
  `chroot "$1" groupadd -g ${SPRITE_UID} sprite`,
  `chroot "$1" useradd -m -u ${SPRITE_UID} -g ${SPRITE_UID} -G sudo -s /bin/bash -d /home/sprite sprite`,
  ': > "$1/etc/hostname" && chmod 0644 "$1/etc/hostname"',
  'rm -f "$1/etc/sudoers.d/README"',
]

/** The `/.sprite` tree and system files, without `version.txt` (which carries the hash). */
const ENTRIES: readonly RecipeEntry[] = [
  { path: '.sprite', mode: 0o755 },
  { path: '.sprite/bin', mode: 0o755 },
  { path: '.sprite/logs', mode: 0o755 },
  { path: '.sprite/logs/services', mode: 0o755 },
  { path: '.sprite/tmp', mode: 0o1777 },
  { path: '.sprite/checkpoints', mode: 0o755 },
  { path: '.sprite/policy', mode: 0o755 },
  { path: '.sprite/llm.txt', mode: 0o644, content: LLM_GUIDE },
  { path: 'etc', mode: 0o755 },
  { path: 'etc/sudoers.d', mode: 0o755 },
  { path: 'etc/sudoers.d/sprite', mode: 0o440, content: SUDOERS },
  { path: 'etc/default', mode: 0o755 },
  { path: 'etc/default/locale', mode: 0o644, content: 'LANG=C.UTF-8\n' },
  { path: '.sprite/etc', mode: 0o755 },
  { path: '.sprite/etc/profile.d', mode: 0o755 },
  { path: '.sprite/etc/profile.d/sprite.sh', mode: 0o644, content: PROFILE },
  { path: '.sprite/languages', mode: 0o755 },
  { path: 'etc/profile.d', mode: 0o755 },
  { path: 'etc/profile.d/sprite.sh', mode: 0o644, content: PROFILE_LOADER },
]

/** The default base image: Debian bookworm minbase plus what an agent needs. */
export const DEFAULT_RECIPE: BaseRecipe = {
  suite: 'bookworm',
  variant: 'minbase',
  mirrors: [
    'deb http://deb.debian.org/debian bookworm main',
    'deb http://deb.debian.org/debian bookworm-updates main',
    'deb http://deb.debian.org/debian-security bookworm-security main',
  ],
  packages: PACKAGES,
  hooks: HOOKS,
  entries: ENTRIES,
}

/** Hex SHA-256 of the recipe's canonical JSON: equal recipes give equal hashes. */
export function hashRecipe(recipe: BaseRecipe): string {
  const canonical = JSON.stringify({
    suite: recipe.suite,
    variant: recipe.variant,
    mirrors: recipe.mirrors,
    packages: [...recipe.packages].sort(),
    hooks: recipe.hooks,
    entries: [...recipe.entries].sort((a, b) => a.path.localeCompare(b.path)),
  })
  return createHash('sha256').update(canonical).digest('hex')
}

/** Image version, e.g. `bookworm-3f2a9c01b7de`: the suite plus the recipe hash's first 12 digits. */
export function recipeVersion(recipe: BaseRecipe): string {
  return `${recipe.suite}-${hashRecipe(recipe).slice(0, 12)}`
}

/** The recipe's entries plus `/.sprite/version.txt` holding `version`. */
export function recipeFiles(recipe: BaseRecipe): RecipeEntry[] {
  const version = {
    path: '.sprite/version.txt',
    mode: 0o644,
    content: `${recipeVersion(recipe)}\n`,
  }
  return [...recipe.entries, version]
}
