import type { Command } from '../../command.ts'

/** The CLI's version. */
export const CLI_VERSION = '0.1.0'

/** `sprite version`. */
export const version: Command = {
  usage: '',
  summary: 'Print the CLI version',
  async run(ctx) {
    ctx.out(`sprite ${CLI_VERSION}`)
    return 0
  },
}
