-- Checks a decoded answer against its operation's response description
-- (the SDK's facts the emulator answers by): every required body field
-- present, each value of its type, down the objects and arrays.
--
--   local described = require "spec.helpers.described"
--   described.conforms("elb", "show_member", res)  -- asserts; returns res

local services = require "hwcloud.services"
local luassert = require "luassert"

local _M = {}

local function math_type(v)
  if math.type then return math.type(v) end
  return v % 1 == 0 and "integer" or "float"
end

-- Why a scalar `v` is not of type `t`, or nil.
local function scalar_misfit(t, v)
  if t == "string" and type(v) ~= "string" then return "not a string" end
  if t == "boolean" and type(v) ~= "boolean" then return "not a boolean" end
  if t == "integer" and (type(v) ~= "number" or math_type(v) ~= "integer" and v % 1 ~= 0) then
    return "not an integer"
  end
  return nil
end

-- The fields `schema` requires that `v` lacks or has of another type, as
-- "path: why" lines (empty when `v` is what the description says).
local function misfits(schema, v, path, out)
  out = out or {}
  path = path or ""
  local t = schema.type
  if t == "object" and schema.fields then
    if type(v) ~= "table" then out[#out + 1] = path .. ": not an object" return out end
    for name, f in pairs(schema.fields) do
      local x = v[name]
      if x == nil then
        if f.required and (not f.location or f.location == "body") then
          out[#out + 1] = path .. "." .. name .. ": missing"
        end
      else
        misfits(f, x, path .. "." .. name, out)
      end
    end
  elseif t == "array" then
    if type(v) ~= "table" then out[#out + 1] = path .. ": not an array" return out end
    for i, x in ipairs(v) do
      if type(schema.items) == "table" then misfits(schema.items, x, path .. "[" .. i .. "]", out) end
    end
  else
    local why = scalar_misfit(t, v)
    if why then out[#out + 1] = path .. ": " .. why end
  end
  return out
end

-- Asserts that `res` is what operation `op` of client field `field`
-- answers by its description; returns res.
function _M.conforms(field, op, res)
  local o = luassert(services.operation(luassert(services.load(field)), op), op)
  local bad = misfits(o.response, res)
  luassert.are.same({}, bad, field .. "." .. op)
  return res
end

_M.misfits = misfits

return _M
