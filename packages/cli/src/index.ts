/** `@sprites/cli`: the `sprite` command line, runnable in-process through `main`. */

export type { CLIIO } from './io.ts'
export { main } from './main.ts'
