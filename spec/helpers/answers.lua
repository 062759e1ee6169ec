-- Whether a decoded answer is what its operation's description says: every
-- required field present, each field of its type and enum, all the way
-- down. The stateful handlers' answers are checked with it.
--
--   local answers = require "spec.helpers.answers"
--   assert(answers.conform("cce", "show_cluster", res))
--   local res = answers.conforms("swr", "show_namespace", res) -- asserts; returns res

local services = require "hwcloud.services"
local cjson = require "cjson"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring

local _M = {}

local function resolve(svc, s)
  local n = 0
  while type(s) == "table" and s.ref and n < 20 do s, n = svc.models[s.ref], n + 1 end
  return s
end

local check

local SCALAR = {
  string = function(v) return type(v) == "string" end,
  integer = function(v) return math.type(v) == "integer" end,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
}

local WALK = {
  array = function(svc, schema, v, path, depth)
    for i, x in ipairs(v) do check(svc, schema.items, x, path .. "[" .. i .. "]", depth + 1) end
  end,
  map = function(svc, schema, v, path, depth)
    for k, x in pairs(v) do check(svc, schema.values, x, path .. "." .. k, depth + 1) end
  end,
  object = function(svc, schema, v, path, depth)
    for name, f in pairs(schema.fields or {}) do
      if f.location == nil or f.location == "body" then
        assert(not f.required or v[name] ~= nil, path .. "." .. name .. " is required")
        check(svc, f, v[name], path .. "." .. name, depth + 1)
      end
    end
  end,
}

local function in_enum(enum, v)
  for _, e in ipairs(enum) do if e == v then return true end end
  return false
end

check = function(svc, schema, v, path, depth)
  schema = resolve(svc, schema)
  if type(schema) ~= "table" or v == nil or v == cjson.null or depth > 12 then return end
  local t = schema.type
  if SCALAR[t] then
    assert(SCALAR[t](v), path .. " should be of type " .. t .. ", is " .. tostring(v))
  elseif WALK[t] then
    assert(type(v) == "table", path .. " should be of type " .. t)
    WALK[t](svc, schema, v, path, depth)
  end
  if schema.enum and type(v) ~= "table" then
    assert(in_enum(schema.enum, v), path .. " = " .. tostring(v) .. " is not one of its enum")
  end
end

-- conform(service, operation, answer) -> true | nil, what breaks the description
function _M.conform(service, operation, answer)
  local svc = assert(services.load(service))
  local op = assert(services.operation(svc, operation), operation)
  local ok, why = pcall(check, svc, op.response, answer, service .. "." .. operation, 0)
  if not ok then return nil, why end
  return true
end

-- conforms(service, operation, answer) -> answer, asserting it conforms
function _M.conforms(service, operation, answer)
  assert(answer ~= nil, service .. "." .. operation .. " gave no answer")
  assert(_M.conform(service, operation, answer))
  return answer
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
