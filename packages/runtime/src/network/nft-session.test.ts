import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createNftSession } from './nft-session.ts'

/** Stands in for `nft -i`: echoes an error for lines with "bad", answers `describe`, dies on "die". */
const FAKE_NFT = `
const rl = require('node:readline').createInterface({ input: process.stdin })
let stuck = false
rl.on('line', (line) => {
  if (stuck) return
  if (line === 'describe meta mark') {
    process.stdout.write('meta expression, datatype mark (packet mark) (basetype integer), 32 bits\\n')
  } else if (line.includes('die')) process.exit(3)
  else if (line.includes('slow')) stuck = true
  else if (line.includes('bad')) process.stderr.write('Error: Could not process rule\\n' + line + '\\n')
})
`

test("batches run in order; errors come back with nft's text; a dead session restarts", async () => {
  const nft = createNftSession({ command: [process.execPath, '-e', FAKE_NFT], timeoutMs: 2000 })
  const results = await Promise.allSettled([
    nft.run('add element inet t s { 1.2.3.4 }'),
    nft.run('bad rule'),
    nft.run('add element inet t s { 1.2.3.5 }'),
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  const failed = results[1] as PromiseRejectedResult
  assert.match(failed.reason.message, /^nft: Error: Could not process rule\nbad rule$/)
  await assert.rejects(nft.run('die'), /nft -i exited \(3\)/)
  await nft.run('add element inet t s { 1.2.3.6 }')
  await assert.rejects(nft.run('two\nlines'), /one line/)
  await nft.close()
})

test('a batch that hangs times out and the next one gets a fresh process', async () => {
  const nft = createNftSession({ command: [process.execPath, '-e', FAKE_NFT], timeoutMs: 300 })
  await assert.rejects(nft.run('slow'), /timed out after 300 ms/)
  await nft.run('add element inet t s { 1.2.3.4 }')
  await nft.close()
})
