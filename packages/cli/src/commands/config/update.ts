import type { UpdateSpriteOptions, URLSettings } from '@sprites/sdk'
import { type Command, list, str } from '../../command.ts'
import { usageError } from '../../usage-error.ts'

function urlSettings(
  auth: string | undefined,
  privateAccess: string | undefined,
): URLSettings | undefined {
  if (auth === undefined) return undefined
  if (auth !== 'public' && auth !== 'sprite')
    throw usageError('--url-auth must be public or sprite')
  if (privateAccess && privateAccess !== 'admins' && privateAccess !== 'org_users') {
    throw usageError('--private-access must be admins or org_users')
  }
  const out: URLSettings = { auth }
  if (privateAccess) out.privateAccess = privateAccess as 'admins' | 'org_users'
  return out
}

/** `sprite config update --url-auth public|sprite [--label l]...` (M5). */
export const configUpdate: Command = {
  usage: '[name] [--url-auth public|sprite] [--private-access admins|org_users] [--label <l>]...',
  summary: "Change a sprite's URL access or labels",
  options: {
    'url-auth': { type: 'string', short: 'a' },
    auth: { type: 'string' },
    'private-access': { type: 'string' },
    label: { type: 'string', multiple: true },
  },
  async run(ctx, { values, positionals }) {
    const name = ctx.spriteName(positionals[0])
    const opts: UpdateSpriteOptions = {}
    const auth = str(values, 'url-auth') ?? str(values, 'auth')
    const settings = urlSettings(auth, str(values, 'private-access'))
    if (settings) opts.urlSettings = settings
    const labels = list(values, 'label')
    if (labels.length) opts.labels = labels
    if (!settings && !labels.length)
      throw usageError('nothing to update: pass --url-auth or --label')
    const sprite = await ctx.client().updateSprite(name, opts)
    ctx.out(
      `Updated ${sprite.name}: URL auth ${sprite.urlSettings.auth}, labels ${sprite.labels.join(', ') || '-'}`,
    )
    return 0
  },
}
