#!/usr/bin/env node
// Launches the TypeScript CLI: re-runs Node with tsx's loader and the @sprites/source condition,
// resolving every path from this file so it works from any directory.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const entry = join(here, '..', 'src', 'main.ts')
const args = ['--conditions=@sprites/source', '--import', tsx, entry, ...process.argv.slice(2)]
const child = spawn(process.execPath, args, { stdio: 'inherit' })
// Ctrl+C reaches the whole foreground process group, the child included: only stay alive for it.
// SIGTERM and SIGHUP sent to this process alone (`kill <pid>`, a closed terminal) go to the child.
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
