-- Whether a decoded answer is what its operation's description says: every
-- required field present, each field of its type and enum, all the way
-- down. The stateful handlers' answers are checked with it.
--
--   local answers = require "spec.helpers.answers"
--   assert(answers.conform("cce", "show_cluster", res))

local services = require "hwcloud.services"

local type, pairs, next, tostring, floor = type, pairs, next, tostring, math.floor

local _M = {}

local function kind(v)
  local t = type(v)
  if t == "number" then return v == floor(v) and "integer" or "number" end
  if t == "table" then
    if next(v) == nil then return "empty" end
    if v[1] ~= nil then return "array" end
    return "object"
  end
  if t == "userdata" then return "null" end -- the decoder's JSON null
  return t
end

local function fits(want, got)
  if want == nil or want == "any" or want == got then return true end
  if want == "number" and got == "integer" then return true end
  if got == "empty" then return want == "array" or want == "object" or want == "map" end
  return want == "map" and got == "object"
end

local check

local function check_fields(schema, v, path)
  for name, f in pairs(schema.fields) do
    local x = v[name]
    local p = path == "" and name or (path .. "." .. name)
    if f.location and f.location ~= "body" then -- luacheck: ignore 542
      -- a header or the like: not in the body
    elseif x == nil or kind(x) == "null" then
      if f.required then return p .. " is required" end
    else
      local why = check(f, x, p)
      if why then return why end
    end
  end
  return nil
end

-- the items of an array, the values of a map
local function check_members(schema, v, path, got)
  if schema.type == "array" and schema.items and got == "array" then
    for i = 1, #v do
      local why = check(schema.items, v[i], path .. "[" .. i .. "]")
      if why then return why end
    end
  elseif schema.type == "map" and schema.values and got == "object" then
    for k, x in pairs(v) do
      local why = check(schema.values, x, path .. "." .. tostring(k))
      if why then return why end
    end
  end
  return nil
end

check = function(schema, v, path)
  if type(schema) ~= "table" then return nil end
  local got = kind(v)
  if not fits(schema.type, got) then
    return (path == "" and "the answer" or path) .. ": expected " .. tostring(schema.type)
      .. ", got " .. got
  end
  if schema.enum then
    local ok = false
    for i = 1, #schema.enum do if schema.enum[i] == v then ok = true end end
    if not ok then return path .. ": " .. tostring(v) .. " is not in its enum" end
  end
  if schema.type == "object" and schema.fields and got == "object" then
    return check_fields(schema, v, path)
  end
  return check_members(schema, v, path, got)
end

-- conform(service, operation, answer) -> true | nil, what breaks the description
function _M.conform(service, operation, answer)
  local svc = assert(services.load(service))
  local op = assert(services.operation(svc, operation), operation)
  local why = check(op.response, answer, "")
  if why then return nil, service .. "." .. operation .. ": " .. why end
  return true
end

-- has(service, operation, path) -> whether the answer's description has
-- the dotted field path ("status.jobId")
function _M.has(service, operation, path)
  local svc = assert(services.load(service))
  local schema = assert(services.operation(svc, operation), operation).response
  for key in path:gmatch("[^.]+") do
    schema = type(schema) == "table" and schema.fields and schema.fields[key]
    if not schema then return false end
  end
  return true
end

return _M
