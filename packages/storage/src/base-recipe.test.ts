import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_RECIPE, hashRecipe, recipeFiles, recipeVersion } from './base-recipe.ts'

test('the recipe hash is stable and ignores package order', () => {
  const reordered = { ...DEFAULT_RECIPE, packages: [...DEFAULT_RECIPE.packages].reverse() }
  assert.equal(hashRecipe(reordered), hashRecipe(DEFAULT_RECIPE))
  assert.match(hashRecipe(DEFAULT_RECIPE), /^[0-9a-f]{64}$/)
})

test('any content change changes the hash and the version', () => {
  const more = { ...DEFAULT_RECIPE, packages: [...DEFAULT_RECIPE.packages, 'htop'] }
  assert.notEqual(hashRecipe(more), hashRecipe(DEFAULT_RECIPE))
  assert.notEqual(recipeVersion(more), recipeVersion(DEFAULT_RECIPE))
  assert.match(recipeVersion(DEFAULT_RECIPE), /^bookworm-[0-9a-f]{12}$/)
})

test('recipe files include version.txt, llm.txt and a 0440 sudoers file', () => {
  const files = new Map(recipeFiles(DEFAULT_RECIPE).map((e) => [e.path, e]))
  assert.equal(files.get('.sprite/version.txt')?.content, `${recipeVersion(DEFAULT_RECIPE)}\n`)
  assert.match(files.get('.sprite/llm.txt')?.content ?? '', /sprite-env/)
  assert.equal(files.get('etc/sudoers.d/sprite')?.mode, 0o440)
  for (const dir of [
    '.sprite/bin',
    '.sprite/logs/services',
    '.sprite/tmp',
    '.sprite/checkpoints',
    '.sprite/policy',
    '.sprite/etc/profile.d',
    '.sprite/languages',
  ]) {
    assert.equal(files.get(dir)?.content, undefined, dir)
  }
  // The system's login hook runs the sprite's own shell init.
  assert.match(
    files.get('etc/profile.d/sprite.sh')?.content ?? '',
    /\/\.sprite\/etc\/profile\.d\/\*\.sh/,
  )
  assert.match(
    files.get('.sprite/etc/profile.d/sprite.sh')?.content ?? '',
    /PATH="\/\.sprite\/bin:/,
  )
})
