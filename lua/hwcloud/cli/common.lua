-- hwcloud.cli.common: what every command of `hwcloud` shares: the usage
-- error (exit 2), the exit status of a library error, the service and
-- operation a command names, --json's object.

local type, tostring, error, setmetatable, getmetatable =
  type, tostring, error, setmetatable, getmetatable
local format = string.format

local errors = require "hwcloud.errors"
local services = require "hwcloud.services"
local json = require "hwcloud.json"

local _M = {}

_M.PROG = "hwcloud"

-- " (did you mean 'x'?)" or "": the library's one rule for suggestions
_M.suggest = require("hwcloud.suggest").hint

-- Usage and validation problems travel as this, caught in main (exit 2).
local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(u) return u.message end

function _M.usage(fmt, ...)
  error(setmetatable({ message = format(fmt, ...) }, Usage), 0)
end
local usage = _M.usage

function _M.is_usage(v) return getmetatable(v) == Usage end

-- 2 for what the caller got wrong, 1 for what the cloud or network refused
function _M.exit_for(err)
  if errors.is(err) and err.kind == "validation" then return 2 end
  return 1
end

-- The error's one line on stderr (it names hwcloud already) -> exit status.
function _M.fail(ctx, err)
  ctx.err(tostring(err) .. "\n")
  return _M.exit_for(err)
end

function _M.load_service(name)
  local svc = name and services.load(name)
  if not svc then
    if name == nil then usage("a service is needed (hwcloud ops lists them)") end
    local why = services.excluded(name)
    if why then usage("service '%s' is not in the catalog: %s (hwcloud request reaches it)", name, why) end
    usage("unknown service '%s'%s", name, _M.suggest(name, services.names()))
  end
  return svc
end

-- The operation called `name` in svc, through its aliases too -> op,
-- the operation an alias named (nil for an operation's own name)
function _M.find_op(svc, name)
  if name == nil then usage("an operation of %s is needed (hwcloud ops %s lists them)",
    svc.name, svc.name) end
  local op = services.operation(svc, name)
  if op then return op, op.name ~= name and op.name or nil end
  usage("%s has no operation '%s'%s", svc.name, name,
    _M.suggest(name, services.operation_names(svc)))
end

-- Reads --json: inline text, or @FILE -> the object
function _M.read_json_arg(text, what)
  what = what or "--json"
  if text:sub(1, 1) == "@" then
    local path = text:sub(2)
    local f, ferr = io.open(path, "rb")
    if not f then usage("%s: cannot read %s: %s", what, path, tostring(ferr)) end
    text = f:read("a")
    f:close()
  end
  local v, derr = require("hwcloud.core").decode(text)
  if v == nil then usage("%s: not valid JSON: %s", what, tostring(derr)) end
  if type(v) ~= "table" or json.is_array(v) or json.is_empty_array(v) then
    usage("%s: expected a JSON object", what)
  end
  return v
end

-- the words of pos from i on
function _M.rest(pos, i)
  local out = {}
  for j = i, #pos do out[#out + 1] = pos[j] end
  return out
end

return _M
