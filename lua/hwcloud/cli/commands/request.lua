-- hwcloud request METHOD PATH --service SERVICE: a signed request to any
-- path of a service, in the catalog or not (client:request).

local type, ipairs, next = type, ipairs, next

local common = require "hwcloud.cli.common"
local output = require "hwcloud.cli.output"
local dryrun = require "hwcloud.cli.dryrun"

local usage = common.usage

-- METHOD and PATH; -> the method in upper case
local function target(pos)
  local method, path = pos[1], pos[2]
  if not method or not path or #pos > 2 then usage("request takes METHOD and PATH") end
  method = method:upper()
  if not method:match("^%u+$") then usage("request: '%s' is not an HTTP method", pos[1]) end
  if path:sub(1, 1) ~= "/" then usage("request: PATH must start with '/'") end
  return method, path
end

-- --query k=v ...: a repeated key is an array
local function query_of(list)
  local query = {}
  for _, q in ipairs(list or {}) do
    local k, v = q:match("^([^=]+)=(.*)$")
    if not k then usage("--query: expected k=v, got '%s'", q) end
    local cur = query[k]
    if cur == nil then query[k] = v
    elseif type(cur) == "table" then cur[#cur + 1] = v
    else query[k] = { cur, v } end
  end
  return next(query) and query or nil
end

return function(ctx, pos)
  local method, path = target(pos)
  local opts = ctx.opts
  if not opts.service then usage("request needs --service SERVICE") end
  -- a service the catalog lacks is reached by its name (the library's
  -- host rule) or the endpoint given
  local svc = require("hwcloud.generic").service(opts.service)
  local r = { service = svc.name, method = method, path = path, query = query_of(opts.query),
              body = opts.json and common.read_json_arg(opts.json) or nil }
  if opts["dry-run"] then
    return dryrun.run(ctx, function(client) return client:request(r) end)
  end
  local res, err = ctx.client_factory():request(r)
  if res == nil then return common.fail(ctx, err) end
  output.answer(ctx, res)
  return 0
end
