# bash completion for hwcloud: commands, options, services, operations,
# fields (spec.ingress.port=) and the values of enum and boolean fields.
# Load it with:  eval "$(hwcloud completion bash)"
_hwcloud() {
  # the words as typed, split on blanks only (bash would also split at "=")
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:blank:]] ]] && words+=("")
  local cur=${words[${#words[@]}-1]}
  local IFS=$'\n'
  local list
  list=$("${words[0]}" completion --words "${words[@]:1}" 2>/dev/null) || return 0
  COMPREPLY=($(compgen -W "$list" -- "$cur"))
  # bash replaces only the part of the word after its last "=" or ":"
  local cut=${cur%"${cur##*[=:]}"}
  if [[ -n $cut ]]; then
    local i
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$cut"}; done
  fi
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=.] ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _hwcloud hwcloud
