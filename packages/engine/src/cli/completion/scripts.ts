/**
 * The shell side of completion: each script hands the words typed so far to
 * `pilotage __complete WORD…` (the last word being the one under the cursor) and offers what it
 * answers. The answer's first line says how: `:values` (then one candidate a line, a tab before
 * its description), `:files EXT,EXT` (the shell's own file-name completion, those extensions and
 * directories; any file when none), or `:dirs`. Everything else is decided by the CLI, so the
 * scripts never go stale when commands change.
 */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const BASH = `# bash completion for pilotage. Install: source <(pilotage completion bash)
# or, for every shell: pilotage completion bash > ~/.local/share/bash-completion/completions/pilotage
_pilotage() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  local -a answer
  answer=($(pilotage __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)) || return 0
  COMPREPLY=()
  local line exts file
  case \${answer[0]} in
    :files*)
      exts=\${answer[0]#:files}
      exts=\${exts# }
      compopt -o filenames 2>/dev/null
      for file in $(compgen -f -- "$cur"); do
        if [[ -d $file || -z $exts || ,$exts, == *,"\${file##*.}",* ]]; then COMPREPLY+=("$file"); fi
      done
      ;;
    :dirs)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -d -- "$cur"))
      ;;
    *)
      for line in "\${answer[@]:1}"; do COMPREPLY+=("\${line%%$'\\t'*}"); done
      ;;
  esac
}
complete -F _pilotage pilotage
`;

const ZSH = `#compdef pilotage
# zsh completion for pilotage. Install: pilotage completion zsh > "\${fpath[1]}/_pilotage"
# (then start a new shell), or for this shell: source <(pilotage completion zsh)
_pilotage() {
  local -a answer values
  local line exts
  answer=("\${(@f)$(pilotage __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case \${answer[1]} in
    :files*)
      exts=\${answer[1]#:files}
      exts=\${exts# }
      if [[ -n $exts ]]; then _files -g "*.(\${exts//,/|})"; else _files; fi
      ;;
    :dirs)
      _files -/
      ;;
    *)
      for line in "\${(@)answer[2,-1]}"; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\\t'* ]]; then values+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        else values+=("\${line//:/\\\\:}"); fi
      done
      _describe -t values pilotage values
      ;;
  esac
}
if [[ \${funcstack[1]} == _pilotage ]]; then _pilotage "$@"; else compdef _pilotage pilotage; fi
`;

const FISH = `# fish completion for pilotage. Install: pilotage completion fish > ~/.config/fish/completions/pilotage.fish
function __pilotage_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    test (count $current) -eq 0; and set current ''
    set -l answer (pilotage __complete $words $current 2>/dev/null)
    switch "$answer[1]"
        case ':files*'
            set -l exts (string split -n , (string replace -r '^:files ?' '' -- $answer[1]))
            for file in (__fish_complete_path $current)
                set file (string replace -r '\\t.*' '' -- $file)
                if string match -q -- '*/' $file; or test (count $exts) -eq 0
                    echo $file
                else if contains -- (string replace -r '.*\\.' '' -- $file) $exts
                    echo $file
                end
            end
        case ':dirs'
            __fish_complete_directories $current
        case '*'
            for line in $answer[2..-1]
                echo $line
            end
    end
end
complete -c pilotage -f -a '(__pilotage_complete)'
`;

/** The completion script of `shell`. */
export function completionScript(shell: CompletionShell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}
