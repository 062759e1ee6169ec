-- hwcloud completion bash|zsh|fish: a shell's completion script;
-- hwcloud completion --words WORD ...: the candidates for the last word
-- (what the scripts ask as you type).

local concat = table.concat

local common = require "hwcloud.cli.common"
local complete = require "hwcloud.cli.complete"

return function(ctx, pos, raw)
  if raw and raw[1] == "--words" then
    local words = common.rest(raw, 2)
    if #words == 0 then words[1] = "" end
    local list = complete.complete(words)
    if #list > 0 then ctx.out(concat(list, "\n") .. "\n") end
    return 0
  end
  local script = #pos == 1 and complete.script(pos[1])
  if not script then
    common.usage("completion takes one argument: %s%s", concat(complete.SHELLS, ", "),
      pos[1] and common.suggest(pos[1], complete.SHELLS) or "")
  end
  ctx.out(script)
  return 0
end
