-- hwcloud ops [SERVICE]: the services, or a service's operations with
-- method and path (aliases as "alias -> operation").

local ipairs, pairs, tostring = ipairs, pairs, tostring
local concat, sort = table.concat, table.sort

local services = require "hwcloud.services"
local common = require "hwcloud.cli.common"
local output = require "hwcloud.cli.output"

return function(ctx, pos)
  if #pos > 1 then common.usage("ops takes at most one service") end
  if #pos == 0 then
    ctx.out(concat(services.names(), "\n") .. "\n")
    return 0
  end
  local svc = common.load_service(pos[1])
  local lines, names = {}, {}
  for n in pairs(svc.all) do names[#names + 1] = n end
  sort(names)
  for _, n in ipairs(names) do
    local op = svc.operations[n]
    lines[#lines + 1] = { n, tostring(op.method) .. " " .. tostring(op.path) }
  end
  local aliases = {}
  for a in pairs(svc.aliases or {}) do aliases[#aliases + 1] = a end
  sort(aliases)
  for _, a in ipairs(aliases) do
    lines[#lines + 1] = { a, "-> " .. tostring(svc.aliases[a]) }
  end
  ctx.out(output.columns(lines, "") .. "\n")
  return 0
end
