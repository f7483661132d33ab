import { SpritesError } from '@sprites/sdk'
import { bool, type Command } from '../../command.ts'
import { readConfigFile, removeOrg, writeConfigFile } from '../../config-file.ts'
import { ask } from '../../prompt.ts'

/**
 * `sprite org logout [--force]`: removes the selected org's entry (`-o` > SPRITE_ORG > .sprite >
 * current selection) from `~/.sprites/sprites.json`, after a confirmation on a terminal.
 */
export const orgLogout: Command = {
  usage: '[--force]',
  summary: "Remove the selected organization's entry from the CLI config",
  options: { force: { type: 'boolean' } },
  async run(ctx, { values }) {
    const { configPath, apiURL, org } = ctx.config
    const file = readConfigFile(configPath)
    if (!org || !file.urls[apiURL]?.orgs[org]) {
      ctx.err(`Not logged in to ${apiURL}${org ? ` as ${org}` : ''}`)
      return 0
    }
    if (!bool(values, 'force')) {
      const { stdin, stderr } = ctx.io
      if (!stdin.isTTY) {
        throw new SpritesError(
          'invalid_argument',
          `refusing to log out of ${org} without confirmation: pass --force`,
        )
      }
      const answer = await ask(stdin, stderr, `Log out of ${org} at ${apiURL}? [y/N] `)
      if (!/^y(es)?$/i.test(answer)) {
        ctx.err('Aborted')
        return 1
      }
    }
    removeOrg(file, apiURL, org)
    writeConfigFile(configPath, file)
    ctx.out(`Logged out of ${org} at ${apiURL}`)
    return 0
  },
}
