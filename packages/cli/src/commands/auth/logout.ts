import type { Command } from '../../command.ts'
import { readConfigFile, removeOrg, writeConfigFile } from '../../config-file.ts'

/** `sprite logout`: forgets the stored token of the selected org (or `-o`). */
export const logout: Command = {
  usage: '',
  summary: 'Remove the stored token of the selected organization',
  async run(ctx) {
    const { configPath, apiURL, org } = ctx.config
    const file = readConfigFile(configPath)
    if (!org || !removeOrg(file, apiURL, org)) {
      ctx.err(`Not logged in to ${apiURL}${org ? ` as ${org}` : ''}`)
      return 0
    }
    writeConfigFile(configPath, file)
    ctx.out(`Logged out of ${org} at ${apiURL}`)
    return 0
  },
}
