import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { SandboxProcess } from '../src/runtime-driver.ts'
import { type AgentFixture, BASE, collect, ROOT_SKIP, run, startAgent } from './agent-helpers.ts'

/** Resolves once the accumulated output matches `re`. */
function waitForOutput(proc: SandboxProcess, re: RegExp): Promise<string> {
  let seen = ''
  return new Promise((resolve) => {
    const onData = (b: Buffer) => {
      seen += b.toString()
      if (re.test(seen)) {
        proc.off('stdout', onData)
        resolve(seen)
      }
    }
    proc.on('stdout', onData)
  })
}

describe('sprite-agent: TTY mode', { skip: ROOT_SKIP }, () => {
  let agent: AgentFixture
  before(async () => {
    agent = await startAgent()
  })
  after(() => agent?.stop())

  test('the process has a /dev/pts terminal', async () => {
    const r = await run(agent.client, { argv: ['tty'], tty: { rows: 24, cols: 80 } })
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n$/)
    assert.equal(r.code, 0)
  })

  test('stty size shows the requested size, and all output is stdout', async () => {
    const r = await run(agent.client, {
      argv: ['sh', '-c', 'stty size; echo err >&2'],
      tty: { rows: 33, cols: 101 },
    })
    assert.equal(r.stdout, '33 101\r\nerr\r\n')
    assert.equal(r.stderr, '')
  })

  test('resize changes the size seen by the next stty', async () => {
    const proc = await agent.client.spawn({
      ...BASE,
      argv: ['sh', '-c', 'read line; stty size'],
      tty: { rows: 24, cols: 80 },
      stdin: true,
    })
    const result = collect(proc)
    proc.resize(40, 120)
    proc.write(Buffer.from('go\n'))
    const r = await result
    assert.match(r.stdout, /40 120\r\n$/)
  })

  test('interactive cat echoes through the pty and ends on Ctrl-D', async () => {
    const proc = await agent.client.spawn({
      ...BASE,
      argv: ['cat'],
      tty: { rows: 24, cols: 80 },
      stdin: true,
    })
    const result = collect(proc)
    const echoed = waitForOutput(proc, /hello\r\nhello\r\n/)
    proc.write(Buffer.from('hello\n'))
    assert.match(await echoed, /hello\r\nhello\r\n/)
    proc.write(Buffer.from([4]))
    const r = await result
    assert.deepEqual([r.code, r.signal], [0, null])
  })

  test('closing every terminal fd before exiting does not get the process hung up', async () => {
    const r = await run(agent.client, {
      argv: ['sh', '-c', 'exec 0<&- 1>&- 2>&-; sleep 0.1; exit 3'],
      tty: { rows: 24, cols: 80 },
    })
    assert.deepEqual([r.code, r.signal], [3, null])
  })

  test('a missing program reports on the terminal with 127', async () => {
    const r = await run(agent.client, { argv: ['no-such-tty-prog'], tty: { rows: 24, cols: 80 } })
    assert.equal(r.code, 127)
    assert.match(r.stdout, /no-such-tty-prog: command not found/)
  })
})
