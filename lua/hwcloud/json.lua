-- hwcloud.json: the library's one JSON writer for what is not a request
-- body (the C marshaller writes those from the schema): the journal's
-- records and the hwcloud command's output.
--
--   json.encode(v [, opts]) -> text, keys sorted so that one value has one text
--
-- opts (all optional):
--   indent   two spaces a level, one member a line
--   schema   the value's schema: an empty table under an array field is []
--   mask     function(key, value) -> true when the value of an object's
--            field `key` is a secret, written as `masked` (default "****")
--   exact    floats with 17 digits (the journal's keys stay as written);
--            else the shortest text that reads back as the same number
--
-- An empty table is [] when the decoder marked it as an array
-- (core.empty_array_mt, as lua-cjson's empty_array_mt), when the schema
-- says array, or when it carries json.array_mt; else {}.

local type, pairs, ipairs, tostring, tonumber, getmetatable, next =
  type, pairs, ipairs, tostring, tonumber, getmetatable, next
local concat, sort = table.concat, table.sort
local format, rep, byte = string.format, string.rep, string.byte
local floor, huge = math.floor, math.huge
local mtype = math.type

local core = require "hwcloud.core"

local _M = {}

-- the decoder's marker of an empty JSON array: set it on a table built as
-- a list that may stay empty, so it prints as []
local ARRAY = core.empty_array_mt
_M.array_mt = ARRAY

function _M.is_empty_array(v)
  return type(v) == "table" and getmetatable(v) == ARRAY and next(v) == nil
end

-- keys exactly 1..n, n > 0
local function is_array(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end
_M.is_array = is_array

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r",
              ["\t"] = "\\t", ["\b"] = "\\b", ["\f"] = "\\f" }
local function esc_char(c)
  return ESC[c] or format("\\u%04x", byte(c))
end

local function quote(s)
  if not s:find('[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. s:gsub('[%c"\\]', esc_char) .. '"'
end
_M.quote = quote

local function integral(v)
  if mtype then return mtype(v) == "integer" or (v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53) end
  return v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end

-- number(v, exact) -> its JSON text (NaN and infinities, which JSON lacks: null)
local function number(v, exact)
  if v ~= v or v == huge or v == -huge then return "null" end
  if integral(v) then return format("%d", v) end
  if exact then return format("%.17g", v) end
  local s = format("%.14g", v)
  if tonumber(s) ~= v then s = format("%.17g", v) end
  return s
end
_M.number = number

-- the schema node under `key` of `schema`
local function sub(schema, key)
  if type(schema) ~= "table" then return nil end
  if schema.type == "array" then return schema.items end
  if schema.fields and type(key) == "string" then return schema.fields[key] end
  if schema.type == "map" then return schema.values end
  return nil
end

-- a table's keys as strings, sorted: the order every writer here uses
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  sort(keys)
  return keys
end
_M.sorted_keys = sorted_keys

local encode

local function members(v, o, schema, depth, seen, nl, pad_in, colon)
  local keys = sorted_keys(v)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    if o.mask and o.mask(k, val) then val = o.masked or "****" end
    parts[i] = pad_in .. quote(k) .. colon .. encode(val, o, sub(schema, k), depth + 1, seen)
  end
  return concat(parts, "," .. nl)
end

function encode(v, o, schema, depth, seen)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return number(v, o.exact) end
  if t == "boolean" then return v and "true" or "false" end
  if t ~= "table" then return "null" end -- null, and what JSON cannot hold
  if seen[v] then return '"(cycle)"' end
  local nl, pad, pad_in, colon = "", "", "", ":"
  if o.indent then
    nl, pad, pad_in, colon = "\n", rep("  ", depth), rep("  ", depth + 1), ": "
  end
  if next(v) == nil then
    local as_array = getmetatable(v) == ARRAY or (type(schema) == "table" and schema.type == "array")
    return as_array and "[]" or "{}"
  end
  seen[v] = true
  local out
  if is_array(v) then
    local parts = {}
    for i = 1, #v do parts[i] = pad_in .. encode(v[i], o, sub(schema, i), depth + 1, seen) end
    out = "[" .. nl .. concat(parts, "," .. nl) .. nl .. pad .. "]"
  else
    out = "{" .. nl .. members(v, o, schema, depth, seen, nl, pad_in, colon) .. nl .. pad .. "}"
  end
  seen[v] = nil
  return out
end

function _M.encode(v, opts)
  local o = type(opts) == "table" and opts or {}
  return encode(v, o, o.schema, 0, {})
end

return _M
