-- hwcloud endpoints SERVICE ...: the URL each service is reached at with
-- these options (region, endpoint), in the catalog or not.

local type, ipairs = type, ipairs
local concat = table.concat

local common = require "hwcloud.cli.common"

return function(ctx, pos)
  if #pos == 0 then common.usage("endpoints needs at least one service") end
  local generic = require "hwcloud.generic"
  local config = require "hwcloud.config"
  for _, name in ipairs(pos) do
    if not name:match("^[a-z][a-z0-9_-]*$") then
      common.usage("endpoints: '%s' is not a service name ([a-z0-9_-])", name)
    end
    local url, alt = config.endpoint(ctx.cfg, generic.service(name))
    if not url then return common.fail(ctx, alt) end
    local line = { name, url }
    for _, a in ipairs(type(alt) == "table" and alt or {}) do line[#line + 1] = a end
    ctx.out(concat(line, "  ") .. "\n")
  end
  return 0
end
