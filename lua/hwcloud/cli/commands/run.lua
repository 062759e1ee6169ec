-- hwcloud run SCRIPT.lua [ARGS ...]: a workflow script run with a ready
-- client and its arguments as varargs; --journal makes its fan-outs
-- resumable.

local type, pairs, tostring, loadfile, xpcall = type, pairs, tostring, loadfile, xpcall
local pack, unpack = table.pack, table.unpack

local common = require "hwcloud.cli.common"

-- the script's client, whose parallel and wait_all use the journal unless
-- given their own; every other method goes to the client
local function with_journal(client, path)
  local function fill(opts)
    if type(opts) ~= "table" and opts ~= nil then return opts end -- the library says why
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    if o.journal == nil then o.journal = path end
    return o
  end
  return require("hwcloud.journal").proxy(client, {
    parallel = function(_, calls, opts) return client:parallel(calls, fill(opts)) end,
    wait_all = function(_, list, opts) return client:wait_all(list, fill(opts)) end,
  })
end

return function(ctx, pos)
  local script = pos[1]
  if not script then common.usage("run needs a script") end
  local chunk, lerr = loadfile(script)
  if not chunk then common.usage("run: %s", tostring(lerr)) end
  local client = ctx.client_factory()
  if ctx.opts.journal then client = with_journal(client, ctx.opts.journal) end
  local args = { [0] = script }
  for i = 2, #pos do args[i - 1] = pos[i] end
  -- as the lua5.4 command sets it for a script
  _G.arg = args
  local res = pack(xpcall(chunk, debug.traceback, client, unpack(args, 1, #args)))
  if not res[1] then
    ctx.err(common.PROG .. ": " .. script .. ": " .. tostring(res[2]) .. "\n")
    return 1
  end
  local code = res[2]
  -- an exit status is taken mod 256: 256 would read as success
  if math.type(code) == "integer" then
    if code >= 0 and code <= 255 then return code end
    return 1
  end
  return 0
end
