-- hwcloud.cli.complete: shell completion. `hwcloud completion --words
-- WORD ...` prints the candidates for the last word: commands, the options
-- the command takes, services and operations (from the catalog's index:
-- only the service named is loaded), fields and the values of enum and
-- boolean fields. The bash script asks it at every TAB; zsh and fish get
-- argparse's scripts of the commands and options, with the same word list
-- for services, operations and fields.

local type, ipairs, pcall, tostring = type, ipairs, pcall, tostring

local services = require "hwcloud.services"
local args = require "hwcloud.cli.args"
local fields = require "hwcloud.cli.fields"
local common = require "hwcloud.cli.common"
local output = require "hwcloud.cli.output"

local _M = {}

-- adds the words of list that start with cur to out
local function add_matching(out, cur, list)
  for _, w in ipairs(list) do
    if w:sub(1, #cur) == cur then out[#out + 1] = w end
  end
end

-- the positional words before the last one: options and their values out
local function positional_words(words)
  local pos, skip = {}, false
  for i = 1, #words - 1 do
    local w = words[i]
    if skip then
      skip = false
    elseif w:sub(1, 1) == "-" then
      local spec = args.OPTIONS[w:match("^%-%-([^=]+)") or ""]
      skip = spec ~= nil and spec.arg ~= nil and not w:find("=", 1, true)
    else
      pos[#pos + 1] = w
    end
  end
  return pos
end

-- "key=": the values of an enum or a boolean field
local function complete_value(out, cur, op, key)
  local node = op.request
  for seg in key:gmatch("[^.]+") do node = fields.child(node, seg) end
  if type(node) == "table" and node.type == "array" then node = node.items end
  if type(node) == "table" then
    local vals = node.enum or (node.type == "boolean" and { "true", "false" }) or {}
    local list = {}
    for i, v in ipairs(vals) do list[i] = key .. "=" .. tostring(v) end
    add_matching(out, cur, list)
  end
end

-- a nested object's name ends in "." (its fields come next), the others in "="
local function complete_field(out, cur, op)
  for _, l in ipairs(fields.field_lines(op.request, "", {}, {})) do
    local name = l[1]
    if not name:find("[%[%*…]") and name:sub(1, #cur) == cur then
      local nested = l[2]:match("^object") and not l[2]:find("free-form", 1, true)
      out[#out + 1] = name .. (nested and "." or "=")
    end
  end
end

-- call SERVICE OPERATION ...: a field, or a field's value
local function complete_call(out, cur, svc, opname)
  local ok, op = pcall(common.find_op, svc, opname)
  if not ok then return end
  local key = cur:match("^([^=]*)=")
  if key then
    complete_value(out, cur, op, key)
  else
    complete_field(out, cur, op)
  end
end

local SERVICE_FIRST = { ops = true, describe = true, call = true, wait = true, ["wait-for"] = true }

-- the word after the command: a service, then an operation, then fields
local function complete_positional(out, cur, pos)
  local cmd = pos[1]
  if not cmd then add_matching(out, cur, args.COMMANDS) return end
  if cmd == "completion" and #pos == 1 then add_matching(out, cur, _M.SHELLS) return end
  if cmd == "obs" and #pos == 1 then add_matching(out, cur, { "cp", "ls", "mb" }) return end
  if not SERVICE_FIRST[cmd] then return end
  if #pos == 1 then add_matching(out, cur, services.names()) return end
  if cmd == "ops" or cmd == "wait" then return end
  if cmd == "wait-for" then
    if #pos == 2 then add_matching(out, cur, require("hwcloud.jobs").waiters(pos[2]) or {}) end
    return
  end
  local svc = services.load(pos[2])
  if not svc then return end
  if #pos == 2 then add_matching(out, cur, services.operation_names(svc)) return end
  if cmd ~= "call" or #pos < 3 then return end
  complete_call(out, cur, svc, pos[3])
end

-- complete(words) -> candidates for the last word, given the words before
-- it (without the program's name).
function _M.complete(words)
  local cur = words[#words] or ""
  local prev = words[#words - 1]
  local out = {}
  if cur:sub(1, 2) == "--" then
    local command = positional_words(words)[1]
    if command and not args.IS_COMMAND[command] then command = nil end
    add_matching(out, cur, args.option_names(command))
    return out
  end
  local spec = prev and prev:sub(1, 2) == "--" and args.OPTIONS[prev:sub(3)]
  if spec and spec.arg then
    if prev == "--service" then add_matching(out, cur, services.names()) end
    if prev == "--output" then add_matching(out, cur, output.OUTPUTS) end
    return out
  end
  complete_positional(out, cur, positional_words(words))
  return out
end

------------------------------------------------------------------ scripts

local BASH = [=[
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
]=]

-- fish: argparse's commands and options, then the word list for the
-- rest (services, operations, fields)
local FISH_WORDS = [=[

# services, operations, fields and values: asked of hwcloud itself
complete -c hwcloud -f -n 'not string match -q -- "-*" (commandline -ct)' \
  -a '(hwcloud completion --words (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
]=]

-- zsh: argparse's script names commands and options; the words after a
-- command come from the word list
local ZSH_WORDS = [=[
# services, operations, fields and values: asked of hwcloud itself
_hwcloud_words() {
  local -a list
  list=(${(f)"$(hwcloud completion --words ${words[1,CURRENT]} 2>/dev/null)"})
  compadd -S '' -- $list
}

]=]

_M.SHELLS = { "bash", "fish", "zsh" }

-- script(shell) -> the completion script | nil
function _M.script(shell)
  if shell == "bash" then return BASH end
  local p = args.parser()
  if shell == "fish" then return p:get_fish_complete() .. FISH_WORDS end
  if shell == "zsh" then
    -- each command's words: the word list instead of argparse's files,
    -- defined before the script's last line calls _hwcloud
    local z = p:get_zsh_complete():gsub('"%*: :_files"', '"*: :_hwcloud_words"')
    return (z:gsub("\n_hwcloud\n", "\n" .. ZSH_WORDS:gsub("%%", "%%%%") .. "_hwcloud\n"))
  end
  return nil
end

return _M
