import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testIO } from '../../../test/fake-api.ts'
import { completionSpec } from '../../completion-scripts.ts'
import { main } from '../../main.ts'
import { COMMANDS } from '../table.ts'

test('the spec lists every command of the table with its flags', () => {
  const spec = completionSpec(COMMANDS)
  assert.ok(spec.top.includes('checkpoint') && spec.top.includes('file'))
  assert.deepEqual(spec.verbs.file, ['push', 'pull', 'edit'])
  assert.deepEqual(spec.verbs.url, ['update'])
  assert.deepEqual(spec.flags.list, ['--prefix', '--json', '--watch', '-w'])
})

async function run(argv: string[]) {
  const io = testIO({ cwd: '/', home: '/nonexistent' })
  return { code: await main(argv, io), out: io.out(), err: io.errText() }
}

test('completion bash|zsh|fish print scripts; other shells exit 2', async () => {
  const bash = await run(['completion', 'bash'])
  assert.equal(bash.code, 0)
  assert.match(bash.out, /complete -o default -F _sprite sprite/)
  assert.match(bash.out, /checkpoint/)
  assert.match(bash.out, /'sessions kill'\|'sessions kill '\*\) flags="\$flags --signal/)
  assert.match((await run(['completion', 'zsh'])).out, /^#compdef sprite\n[\s\S]*bashcompinit/)
  assert.match(
    (await run(['completion', 'fish'])).out,
    /__sprite_at checkpoint' -f -a 'create list/,
  )
  const ps = await run(['completion', 'powershell'])
  assert.equal(ps.code, 2)
  assert.match(ps.err, /^error: powershell is not supported/)
  assert.equal((await run(['completion'])).code, 2)
})
