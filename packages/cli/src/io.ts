import { homedir } from 'node:os'

/** Readable side the CLI reads from; `isTTY`/`setRawMode` exist on a terminal. */
export type CLIInput = NodeJS.ReadableStream & {
  isTTY?: boolean
  setRawMode?: (mode: boolean) => unknown
}

/** Writable side; `columns`/`rows` and the `resize` event exist on a terminal. */
export type CLIOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number }

/** Everything the CLI touches outside itself, injectable for in-process tests. */
export interface CLIIO {
  env: Readonly<Record<string, string | undefined>>
  stdin: CLIInput
  stdout: CLIOutput
  stderr: CLIOutput
  cwd: string
  home: string
}

/** The real process's IO. */
export function processIO(): CLIIO {
  return {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    home: homedir(),
  }
}
