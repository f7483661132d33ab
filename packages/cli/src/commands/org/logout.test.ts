import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { testIO } from '../../../test/fake-api.ts'
import { configPath, readConfigFile, storeToken, writeConfigFile } from '../../config-file.ts'
import { main } from '../../main.ts'

const URL_A = 'http://a:1'

function setup(t: TestContext) {
  const home = mkdtempSync(join(tmpdir(), 'sprite-org-logout-'))
  t.after(() => rmSync(home, { recursive: true, force: true }))
  const file = readConfigFile(configPath(home))
  storeToken(file, URL_A, 'other', 'other/aaaaa/t/s')
  storeToken(file, URL_A, 'personal', 'personal/bbbbb/t/s')
  writeConfigFile(configPath(home), file)
  const run = async (argv: string[]) => {
    const io = testIO({ cwd: home, home })
    return { code: await main(argv, io), out: io.out(), err: io.errText() }
  }
  return {
    home,
    run,
    orgs: () => Object.keys(readConfigFile(configPath(home)).urls[URL_A]?.orgs ?? {}),
  }
}

test('org logout --force removes only the current org', async (t) => {
  const { run, orgs } = setup(t)
  assert.deepEqual(await run(['org', 'logout', '--force']), {
    code: 0,
    out: `Logged out of personal at ${URL_A}\n`,
    err: '',
  })
  assert.deepEqual(orgs(), ['other'])
  const again = await run(['org', 'logout', '--force', '-o', 'personal'])
  assert.equal(again.code, 0)
  assert.match(again.err, /Not logged in/)
})

test('org logout without --force and without a terminal refuses', async (t) => {
  const { run, orgs } = setup(t)
  const r = await run(['org', 'logout'])
  assert.equal(r.code, 1)
  assert.equal(r.err, 'error: refusing to log out of personal without confirmation: pass --force\n')
  assert.deepEqual(orgs(), ['other', 'personal'])
})
