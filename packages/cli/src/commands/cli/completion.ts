import type { Command } from '../../command.ts'
import {
  bashScript,
  type CompletionSpec,
  completionSpec,
  fishScript,
  zshScript,
} from '../../completion-scripts.ts'
import { usageError } from '../../usage-error.ts'

const SHELLS: Readonly<Record<string, (spec: CompletionSpec) => string>> = {
  bash: bashScript,
  zsh: zshScript,
  fish: fishScript,
}

/**
 * `sprite completion bash|zsh|fish`: prints a completion script for the commands of `table()`
 * (a getter, as the table contains this command).
 */
export function completionCommand(table: () => Readonly<Record<string, Command>>): Command {
  return {
    usage: 'bash|zsh|fish',
    summary: 'Print a shell completion script',
    async run(ctx, { positionals }) {
      const shell = positionals[0] ?? ''
      const script = SHELLS[shell]
      if (!script) {
        const what = shell === 'powershell' ? 'powershell is not supported' : 'unknown shell'
        throw usageError(`${what}: sprite completion bash|zsh|fish`)
      }
      ctx.io.stdout.write(script(completionSpec(table())))
      return 0
    },
  }
}
