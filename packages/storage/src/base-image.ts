import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BaseRecipe } from './base-recipe.ts'
import { hashRecipe, recipeFiles } from './base-recipe.ts'
import type { ExecFn } from './exec.ts'
import { withFileLock } from './file-lock.ts'
import type { ProgressFn } from './volume-driver.ts'

export interface BaseTarOptions {
  recipe: BaseRecipe
  cacheDir: string
  exec: ExecFn
  rebuild?: boolean
  onProgress?: ProgressFn
}

export interface GoldenImageOptions {
  tarPath: string
  imagePath: string
  sizeBytes: number
  exec: ExecFn
  onProgress?: ProgressFn
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Path of the cached base tar for a recipe. */
export function baseTarPath(cacheDir: string, recipe: BaseRecipe): string {
  return join(cacheDir, `base-${hashRecipe(recipe).slice(0, 16)}.tar`)
}

/** Writes the recipe's `/.sprite` tree and system files into `dir` (mode 0755, like `/`). */
async function writeOverlay(dir: string, recipe: BaseRecipe): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of recipeFiles(recipe)) {
    const path = join(dir, entry.path)
    if (entry.content === undefined) await mkdir(path, { recursive: true })
    else await writeFile(path, entry.content)
    await chmod(path, entry.mode)
  }
}

function mmdebstrapArgs(recipe: BaseRecipe, overlay: string, out: string): string[] {
  return [
    `--variant=${recipe.variant}`,
    `--include=${recipe.packages.join(',')}`,
    '--format=tar',
    `--customize-hook=sync-in ${overlay} /`,
    ...recipe.hooks.map((hook) => `--customize-hook=${hook}`),
    recipe.suite,
    out,
    ...recipe.mirrors,
  ]
}

async function runMmdebstrap(opts: BaseTarOptions, out: string): Promise<void> {
  const overlay = await mkdtemp(join(opts.cacheDir, '.overlay-'))
  try {
    await writeOverlay(overlay, opts.recipe)
    const args = mmdebstrapArgs(opts.recipe, overlay, out)
    await opts.exec('mmdebstrap', args, { onLine: opts.onProgress })
  } finally {
    await rm(overlay, { recursive: true, force: true })
  }
}

/**
 * Returns the cached base tar of the recipe, building it with mmdebstrap when missing (or when
 * `rebuild`). A lock file keeps concurrent callers from building the same tar twice.
 */
export async function ensureBaseTar(opts: BaseTarOptions): Promise<string> {
  const tarPath = baseTarPath(opts.cacheDir, opts.recipe)
  if (!opts.rebuild && (await exists(tarPath))) return tarPath
  await mkdir(opts.cacheDir, { recursive: true })
  const startedAt = Date.now()
  return withFileLock(`${tarPath}.lock`, async () => {
    // Another caller may have finished the build while this one waited for the lock.
    const builtMeanwhile = (await stat(tarPath).catch(() => undefined))?.mtimeMs ?? 0
    if (builtMeanwhile > (opts.rebuild ? startedAt : 0)) return tarPath
    opts.onProgress?.(`building base tar ${tarPath} with mmdebstrap`)
    const tmp = `${tarPath}.${process.pid}.tmp`
    try {
      await runMmdebstrap(opts, tmp)
      await rename(tmp, tarPath)
    } finally {
      await rm(tmp, { force: true })
    }
    return tarPath
  })
}

/**
 * Builds a sparse ext4 image of `sizeBytes` holding the tar's tree with its owners
 * (`mkfs.ext4 -d` from an unpacked copy), writing to a temporary name and renaming at the end.
 */
export async function buildGoldenImage(opts: GoldenImageOptions): Promise<void> {
  const tmp = `${opts.imagePath}.${process.pid}.tmp`
  const tree = `${opts.imagePath}.${process.pid}.tree`
  try {
    await mkdir(tree, { recursive: true })
    opts.onProgress?.('unpacking base tar')
    const tarArgs = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', opts.tarPath]
    await opts.exec('tar', [...tarArgs, '-C', tree])
    opts.onProgress?.('creating ext4 image')
    await opts.exec('truncate', ['-s', String(opts.sizeBytes), tmp])
    await opts.exec('mkfs.ext4', ['-q', '-F', '-L', 'sprite-root', '-d', tree, tmp])
    await rename(tmp, opts.imagePath)
  } finally {
    await rm(tree, { recursive: true, force: true })
    await rm(tmp, { force: true })
  }
}
