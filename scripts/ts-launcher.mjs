// Runs a TypeScript entry point of this repository as a program: re-runs Node with tsx's loader
// and the @sprites/source condition, resolving every path from the caller so it works from any
// directory, and passes stdio, signals and the exit status through.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** @param {string} entry absolute path of the .ts entry point */
export function launch(entry) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  const args = ['--conditions=@sprites/source', '--import', tsx, entry, ...process.argv.slice(2)]
  const child = spawn(process.execPath, args, { stdio: 'inherit' })
  // Ctrl+C reaches the whole foreground process group, the child included: only stay alive for
  // it. SIGTERM and SIGHUP sent to this process alone (`kill <pid>`, a closed terminal) go on.
  const handlers = {
    SIGINT: () => {},
    SIGTERM: () => child.kill('SIGTERM'),
    SIGHUP: () => child.kill('SIGHUP'),
  }
  for (const [sig, fn] of Object.entries(handlers)) process.on(sig, fn)
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, so the caller sees it; our own handlers must not swallow it.
      for (const [sig, fn] of Object.entries(handlers)) process.removeListener(sig, fn)
      process.kill(process.pid, signal)
    } else process.exit(code ?? 1)
  })
}
