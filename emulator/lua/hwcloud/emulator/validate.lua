-- hwcloud.emulator.validate: checks a decoded JSON request body against the
-- mandatory fields and types of an API document.
--
-- Schema: { type = "object", fields = { name = { type =, required =, enum =,
-- fields =, items = } } } with types string, integer, number, boolean, array,
-- object (with `fields`: checked; without: any JSON object). Unknown fields are
-- ignored, as the cloud services do. JSON null counts as absent. The service
-- descriptions add "any" (anything), "map" (an object whose members fit
-- `values`) and `location` (a field not in the body: skipped here, checked by
-- hwcloud.emulator.described) and "file" (a file part of a multipart body).

local util = require "hwcloud.emulator.util"

local type, pairs, next, floor, huge, getmetatable, setmetatable =
  type, pairs, next, math.floor, math.huge, getmetatable, setmetatable
local concat, sort = table.concat, table.sort

local null = util.null

local _M = {}

-- a file part of a multipart body (hwcloud.emulator.forms)
local FILE = {}
function _M.file_part(t) return setmetatable(t, FILE) end

local function json_type(v)
  local t = type(v)
  if t == "string" then return "string" end
  if t == "table" and getmetatable(v) == FILE then return "file" end
  if t == "boolean" then return "boolean" end
  if t == "number" then
    if v == floor(v) and v > -huge and v < huge then return "integer" end
    return "number"
  end
  if v == null then return "null" end
  if t == "table" then
    if next(v) == nil then return "empty" end
    if v[1] ~= nil then
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      if n == #v then return "array" end
    end
    return "object"
  end
  return t
end
_M.json_type = json_type

local function matches(want, got)
  if want == got or want == nil or want == "any" then return true end
  if want == "map" then return got == "object" or got == "empty" end
  if want == "number" and got == "integer" then return true end
  if got == "empty" and (want == "array" or want == "object") then return true end
  return false
end

local check

local function join(prefix, name)
  if prefix == "" then return name end
  return prefix .. "." .. name
end

local function check_enum(schema, value, path)
  for i = 1, #schema.enum do
    if schema.enum[i] == value then return nil end
  end
  return path, "must be one of " .. concat(schema.enum, ", ")
end

-- Fields are checked in name order so the reported field is stable.
local function field_order(schema)
  local order = schema.order
  if not order then
    order = {}
    for name in pairs(schema.fields) do order[#order + 1] = name end
    sort(order)
    schema.order = order
  end
  return order
end

local function check_fields(schema, value, path)
  local order = field_order(schema)
  for i = 1, #order do
    local name = order[i]
    local sub = schema.fields[name]
    local v = value[name]
    local p = join(path, name)
    if sub.location then -- luacheck: ignore 542
      -- not a body member
    elseif v == nil or v == null then
      if sub.required then return p, "is required" end
    else
      local field, msg = check(sub, v, p)
      if field then return field, msg end
    end
  end
  return nil
end

local function check_values(schema, value, path)
  local keys = {}
  for k in pairs(value) do keys[#keys + 1] = k end
  sort(keys)
  for i = 1, #keys do
    local field, msg = check(schema.values, value[keys[i]], join(path, keys[i]))
    if field then return field, msg end
  end
  return nil
end

local function check_items(schema, value, path)
  for i = 1, #value do
    local field, msg = check(schema.items, value[i], path .. "[" .. i .. "]")
    if field then return field, msg end
  end
  return nil
end

check = function(schema, value, path)
  local got = json_type(value)
  if not matches(schema.type, got) then
    return path, "expected " .. schema.type .. ", got " .. (got == "empty" and "object" or got)
  end
  if schema.enum then
    local field, msg = check_enum(schema, value, path)
    if field then return field, msg end
  end
  local t = schema.type
  if t == "object" and schema.fields then return check_fields(schema, value, path) end
  if t == "map" and schema.values then return check_values(schema, value, path) end
  if t == "array" and schema.items then return check_items(schema, value, path) end
  return nil
end

-- Returns nil when `value` fits `schema`, else the dotted field path and the
-- broken rule.
function _M.check(schema, value)
  return check(schema, value, "")
end

return _M
