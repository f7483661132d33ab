import { execFile } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
// src/agent/ in development, dist/src/agent/ when built.
const packageRoot =
  basename(resolve(here, '../..')) === 'dist' ? resolve(here, '../../..') : resolve(here, '../..')

/** Directory with the agent's C sources and Makefile. */
export const AGENT_NATIVE_DIR = join(packageRoot, 'native')
/** Absolute path of the built `sprite-agent` binary. */
export const AGENT_BINARY_PATH = join(AGENT_NATIVE_DIR, 'build', 'sprite-agent')

async function mtimeMs(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

async function newestSourceMs(): Promise<number> {
  const names = (await readdir(AGENT_NATIVE_DIR)).filter(
    (n) => n.endsWith('.c') || n.endsWith('.h') || n === 'Makefile',
  )
  const times = await Promise.all(names.map((n) => mtimeMs(join(AGENT_NATIVE_DIR, n))))
  return Math.max(0, ...times.map((t) => t ?? 0))
}

/**
 * Builds the agent with `make` when the binary is missing or older than its sources, and returns
 * its path.
 * @throws Error with make's output when the build fails (needs `make` and `gcc`).
 * @example
 * const agentPath = await ensureAgentBuilt()
 */
export async function ensureAgentBuilt(): Promise<string> {
  const built = await mtimeMs(AGENT_BINARY_PATH)
  if (built !== undefined && built >= (await newestSourceMs())) return AGENT_BINARY_PATH
  try {
    await promisify(execFile)('make', ['-s', '--no-print-directory', '-C', AGENT_NATIVE_DIR])
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(`building sprite-agent failed: ${e.stderr?.trim() || e.message}`, {
      cause: err,
    })
  }
  return AGENT_BINARY_PATH
}
