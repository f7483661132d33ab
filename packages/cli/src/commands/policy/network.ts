import type { NetworkPolicy, NetworkRule } from '@sprites/sdk'
import { bool, type Command, list } from '../../command.ts'
import type { Context } from '../../context.ts'
import { usageError } from '../../usage-error.ts'

/** One rule as a line: `allow  api.example.com`, `include defaults`. */
export function formatRule(rule: NetworkRule): string {
  return 'include' in rule ? `include ${rule.include}` : `${rule.action.padEnd(6)} ${rule.domain}`
}

/** The rule set that `set` sends: `defaults` first, then allows, then denies (order has no meaning). */
export function rulesFromFlags(values: Parameters<Command['run']>[1]['values']): NetworkRule[] {
  const rules: NetworkRule[] = bool(values, 'defaults') ? [{ include: 'defaults' }] : []
  for (const domain of list(values, 'allow')) rules.push({ domain, action: 'allow' })
  for (const domain of list(values, 'deny')) rules.push({ domain, action: 'deny' })
  if (bool(values, 'clear') && rules.length > 0) {
    throw usageError(
      '--clear removes every rule: do not combine it with --allow, --deny or --defaults',
    )
  }
  if (!bool(values, 'clear') && rules.length === 0) {
    throw usageError(
      'nothing to set: pass --allow <domain>, --deny <domain>, --defaults or --clear',
    )
  }
  return rules
}

function print(ctx: Context, policy: NetworkPolicy): void {
  if (policy.rules.length === 0) {
    ctx.out('No rules: outbound traffic is not restricted.')
    return
  }
  for (const rule of policy.rules) ctx.out(formatRule(rule))
}

/**
 * `sprite policy network [name] [--json]` prints the egress rules (§8.1);
 * `sprite policy network set [name] [--allow d]... [--deny d]... [--defaults] | --clear` replaces them.
 */
export const policyNetwork: Command = {
  usage: '[set] [name] [--allow <domain>]... [--deny <domain>]... [--defaults] [--clear] [--json]',
  summary: 'Show or replace the network egress rules',
  options: {
    allow: { type: 'string', multiple: true },
    deny: { type: 'string', multiple: true },
    defaults: { type: 'boolean' },
    clear: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const setting = positionals[0] === 'set'
    const name = ctx.spriteName(setting ? positionals[1] : positionals[0])
    const client = ctx.client()
    if (setting) {
      await client.updateNetworkPolicy(name, { rules: rulesFromFlags(values) })
    } else if (
      list(values, 'allow').length ||
      list(values, 'deny').length ||
      bool(values, 'clear')
    ) {
      throw usageError('to change the rules use `sprite policy network set …`')
    }
    const policy = await client.getNetworkPolicy(name)
    if (bool(values, 'json')) ctx.out(JSON.stringify(policy))
    else print(ctx, policy)
    return 0
  },
}
