import { type Command, str } from '../../command.ts'
import { usageError } from '../../usage-error.ts'
import { saveToken } from './save-token.ts'

/** `sprite auth setup --token <t> [--url <api-url>]`: stores a token without any server call. */
export const authSetup: Command = {
  usage: '--token <token> [--url <api-url>]',
  summary: 'Store an API token for a server and select it',
  options: { token: { type: 'string' }, url: { type: 'string' } },
  async run(ctx, { values }) {
    const token = str(values, 'token')
    if (!token) throw usageError('pass --token <org-slug>/<org-id>/<token-id>/<secret>')
    return saveToken(ctx, token, str(values, 'url'))
  },
}
