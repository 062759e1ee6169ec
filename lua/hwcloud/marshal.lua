-- hwcloud.marshal: core.build (validate a request against its operation's
-- schema, then write "path?query" and the JSON body) with its refusals in
-- words. The C core names the field and the rule it broke; for three rules
-- the message says more, worded here since it runs only on a refusal:
--   expected       "expected integer, got number 1.5" (from the value)
--   must be one of the enum's strings
--   unknown field  with the closest declared name, when one is close
-- build(op, req, project_id) -> path, body | nil, field, message

local type, next, format, concat = type, next, string.format, table.concat
local tonumber, gsub, floor, huge = tonumber, string.gsub, math.floor, math.huge
local core_build = require("hwcloud.core").build
local closest = require("hwcloud.suggest").closest
local null = require("cjson").null

local _M = {}

-- d as the shortest %.15g-%.17g that reads back, with a '.' whatever the
-- locale's decimal point
local function number(d)
  if d ~= d then return "nan" end
  if d == huge or d == -huge then return d < 0 and "-inf" or "inf" end
  local s
  for prec = 15, 17 do
    s = format("%." .. prec .. "g", d)
    if tonumber(s) == d then break end
  end
  return (gsub(s, "[^%d%-+eE]+", "."))
end

-- what a value is, as JSON sees it: a table of keys 1..n is an array
local function what(v, expected)
  local t = type(v)
  if t == "number" then
    return expected == "integer" and "number " .. number(v) or "number"
  elseif t == "table" then
    if next(v) == nil then return "table" end
    local n, count = #v, 0
    for k in next, v do
      if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then return "object" end
      count = count + 1
    end
    return count == n and "array" or "object"
  elseif v == null then
    return "null"
  end
  return t
end

-- message(rule, detail, value) -> the message of a refusal core.build gave
function _M.message(rule, detail, value)
  if rule == "expected" then
    return format("expected %s, got %s", detail, what(value, detail))
  elseif rule == "must be one of" then
    local shown = {}
    for i = 1, #detail do
      if type(detail[i]) == "string" then shown[#shown + 1] = '"' .. detail[i] .. '"' end
    end
    return rule .. " " .. concat(shown, ", ")
  elseif rule == "unknown field" then
    local best = closest(value, detail)
    return best and format('unknown field (did you mean "%s"?)', best) or rule
  end
  return rule
end

function _M.build(op, req, pid)
  local path, body, rule, detail, value = core_build(op, req, pid)
  if path then return path, body end
  return nil, body, _M.message(rule, detail, value)
end

return _M
