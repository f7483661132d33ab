import type { Command } from './command.ts'

/** What the completion scripts know: command words and flags, from the command table. */
export interface CompletionSpec {
  /** First words, in table order. */
  top: string[]
  /** Group word (`sessions`) → its second words. */
  verbs: Record<string, string[]>
  /** Command name (`sessions kill`) → its flags (`--force`, `-w`, …). */
  flags: Record<string, string[]>
}

/** Flags every command accepts (§13.1). */
const GLOBAL_FLAGS = ['-s', '--sprite', '-o', '--org', '--debug', '-h', '--help']

/** Builds the spec from a command table. */
export function completionSpec(commands: Readonly<Record<string, Command>>): CompletionSpec {
  const spec: CompletionSpec = { top: [], verbs: {}, flags: {} }
  for (const [name, command] of Object.entries(commands)) {
    const [first = name, second] = name.split(' ')
    if (!spec.top.includes(first)) spec.top.push(first)
    if (second) spec.verbs[first] = [...(spec.verbs[first] ?? []), second]
    spec.flags[name] = Object.entries(command.options ?? {}).flatMap(([flag, o]) =>
      o.short ? [`--${flag}`, `-${o.short}`] : [`--${flag}`],
    )
  }
  return spec
}

/** Longest names first, so `url update` is matched before `url`. */
function byLength(spec: CompletionSpec): string[] {
  return Object.keys(spec.flags).sort((a, b) => b.split(' ').length - a.split(' ').length)
}

/** A bash completion script (`complete -F`); also the body of the zsh one. */
export function bashScript(spec: CompletionSpec): string {
  const groups = Object.entries(spec.verbs).map(
    ([g, verbs]) => `    ${g}) [ "\${#words[@]}" -eq 1 ] && subs="${verbs.join(' ')}" ;;`,
  )
  const flagCases = byLength(spec)
    .filter((name) => (spec.flags[name] ?? []).length > 0)
    .map((name) => `    '${name}'|'${name} '*) flags="$flags ${spec.flags[name]?.join(' ')}" ;;`)
  return `# bash completion for sprite: eval "$(sprite completion bash)"
_sprite() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" i w subs="" flags="${GLOBAL_FLAGS.join(' ')}"
  local -a words=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -s | --sprite | -o | --org) ((i++)) ;;
      --) return 0 ;;
      -*) ;;
      *) words+=("$w") ;;
    esac
  done
  case "\${words[0]-}" in
    '') subs="${spec.top.join(' ')}" ;;
${groups.join('\n')}
  esac
  case "\${words[*]}" in
${flagCases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
  elif [ -n "$subs" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  fi
}
complete -o default -F _sprite sprite
`
}

/** A zsh completion script: the bash one through zsh's `bashcompinit`. */
export function zshScript(spec: CompletionSpec): string {
  return `#compdef sprite
# zsh completion for sprite: eval "$(sprite completion zsh)"
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(spec).split('\n').slice(1).join('\n')}`
}

function fishFlag(flag: string, condition: string): string {
  const opt = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`
  return `complete -c sprite -n '${condition}' ${opt}`
}

/** A fish completion script. */
export function fishScript(spec: CompletionSpec): string {
  const lines = [
    `complete -c sprite -n '__sprite_at' -f -a '${spec.top.join(' ')}'`,
    ...Object.entries(spec.verbs).map(
      ([g, verbs]) => `complete -c sprite -n '__sprite_at ${g}' -f -a '${verbs.join(' ')}'`,
    ),
    ...byLength(spec).flatMap((name) =>
      (spec.flags[name] ?? []).map((f) => fishFlag(f, `__sprite_in ${name}`)),
    ),
    ...GLOBAL_FLAGS.map((f) => fishFlag(f, 'true')),
  ]
  return `# fish completion for sprite: sprite completion fish > ~/.config/fish/completions/sprite.fish
function __sprite_words
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for w in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case -s --sprite -o --org
                set skip 1
            case '-*'
            case '*'
                echo $w
        end
    end
end
function __sprite_in
    set -l words (__sprite_words)
    test (count $words) -ge (count $argv); or return 1
    for i in (seq (count $argv))
        test "$words[$i]" = "$argv[$i]"; or return 1
    end
end
function __sprite_at
    set -l words (__sprite_words)
    test (count $words) -eq (count $argv); and __sprite_in $argv
end
${lines.join('\n')}
`
}
