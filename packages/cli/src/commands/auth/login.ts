import { type Command, str } from '../../command.ts'
import { ask, readLine } from '../../prompt.ts'
import { usageError } from '../../usage-error.ts'
import { saveToken } from './save-token.ts'

/** `sprite login [api-url]` / `sprite org auth [api-url]`: asks for a token, then stores it. */
export const login: Command = {
  usage: '[api-url] [--token <token>]',
  summary: 'Log in to a server with an API token (prompted when not given)',
  options: { token: { type: 'string' } },
  async run(ctx, { values, positionals }) {
    const { stdin, stderr } = ctx.io
    let token = str(values, 'token')
    if (!token) {
      token = stdin.isTTY
        ? await ask(stdin, stderr, 'API token (<org-slug>/<org-id>/<token-id>/<secret>): ')
        : (await readLine(stdin)).trim()
    }
    if (!token) throw usageError('no token given: pass --token <token> or type it at the prompt')
    return saveToken(ctx, token, positionals[0])
  },
}
