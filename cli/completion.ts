/**
 * Shell completion: a small script per shell that asks `toolfleet __complete <words…>` for the
 * candidates, so commands, flags, their values and (when signed in) server names complete from
 * the same table the parser uses.
 */
import { usageError } from "./errors.js";

export function completionScript(shell: string): string {
  if (shell === "bash") {
    return `# bash completion for toolfleet: source <(toolfleet completion bash)
_toolfleet() {
  local IFS=$'\\n'
  COMPREPLY=($(toolfleet __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _toolfleet toolfleet kubectl-toolfleet`;
  }
  if (shell === "zsh") {
    return `#compdef toolfleet kubectl-toolfleet
# zsh completion for toolfleet: source <(toolfleet completion zsh)
_toolfleet() {
  local -a candidates
  candidates=("\${(@f)$(toolfleet __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _toolfleet toolfleet kubectl-toolfleet`;
  }
  throw usageError(`completion: "${shell}" is not bash or zsh`);
}
