import { execFileSync } from 'node:child_process'
import { runCLI, SPRITE_BIN } from './cli-helpers.ts'
import { startSpritesd, uniqueName } from './harness.ts'

const srv = await startSpritesd()
const name = uniqueName('dbg')
const T = (a: string[]) => execFileSync('tmux', ['-L', 'dbgy', ...a], { encoding: 'utf8' })
try {
  const c = await runCLI(['create', name, '--skip-console'], { env: srv.cliEnv })
  const env = Object.entries(srv.cliEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  for (const inner of [
    `exec --tty -s ${name} -- sh -c 'sleep 1; exit 3'`,
    `exec --tty -s ${name} -- bash`,
  ]) {
    const cmd = `env ${env} NODE_DEBUG= node ${SPRITE_BIN} ${inner} --debug; echo EXIT=$?; sleep 30`
    T(['new-session', '-d', '-s', 'q', '-x', '100', '-y', '30', cmd])
    await new Promise((r) => setTimeout(r, 2500))
    T(['send-keys', '-t', 'q', '-l', 'exit 3'])
    T(['send-keys', '-t', 'q', 'Enter'])
    await new Promise((r) => setTimeout(r, 2500))
    console.log(T(['capture-pane', '-p', '-t', 'q']).trim())
    T(['kill-session', '-t', 'q'])
  }
} finally {
  try {
    T(['kill-server'])
  } catch {}
  await runCLI(['destroy', name, '--force'], { env: srv.cliEnv })
  await srv.stop()
}
