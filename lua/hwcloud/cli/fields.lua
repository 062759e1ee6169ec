-- hwcloud.cli.fields: `key=value` words typed into a request by the
-- operation's description, and the dotted field names a description
-- has (for describe and completion).
--
--   update_access_agent=false   a boolean       limit=10   an integer
--   spec.ingress.port=80        a nested field  names=a names=b   an array
--   input_values:='{"k":1}'     any JSON value

local type, pairs, ipairs, tostring, tonumber =
  type, pairs, ipairs, tostring, tonumber
local concat, sort = table.concat, table.sort
local tointeger = math.tointeger

local common = require "hwcloud.cli.common"
local usage = common.usage
local decode = require("hwcloud.core").decode

local _M = {}

-- typed(node, raw) -> the Lua value of `raw` for a field of schema `node`.
-- A string that does not fit the type is kept as is: the library's
-- validation then names the field and the rule.
function _M.typed(node, raw)
  local t = type(node) == "table" and node.type or nil
  if t == "boolean" then
    if raw == "true" then return true end
    if raw == "false" then return false end
  elseif t == "integer" then
    if raw:match("^[+-]?%d+$") then
      local v = tointeger(tonumber(raw))
      if v then return v end
    end
  elseif t == "number" then
    -- decimal only: not 0x10, inf or nan
    local v = tonumber(raw)
    if v and not raw:find("[xXnN]") then return v end
  elseif t == "any" or t == "map" or (t == "object" and not node.fields) then
    -- free-form: JSON when it reads as JSON, else text
    local v = decode(raw)
    if v ~= nil and raw:match("^%s*[%[{\"%d%-tfn]") then return v end
  end
  return raw
end
local typed = _M.typed

-- the schema node of field `key` under node
local function child(node, key)
  if type(node) ~= "table" then return nil end
  if node.fields then return node.fields[key] end
  if node.type == "map" then return node.values end
  return nil
end
_M.child = child

-- "a.b.c" -> { "a", "b", "c" }
local function segments(key)
  local segs = {}
  for seg in (key .. "."):gmatch("([^.]*)%.") do
    if seg == "" then usage("field '%s': empty name between dots", key) end
    segs[#segs + 1] = seg
  end
  return segs
end

-- down to the table that holds the last segment (made on the way);
-- -> the schema node and the table of the last segment's parent
local function walk(req, schema, key, segs)
  local node, t = schema, req
  for i = 1, #segs - 1 do
    node = child(node, segs[i])
    if type(node) == "table" and node.type == "array" then
      usage("field '%s': '%s' is an array of objects; give it with --json or %s:=[...]",
        key, concat(segs, ".", 1, i), concat(segs, ".", 1, i))
    end
    local nxt = t[segs[i]]
    if nxt == nil then
      nxt = {}
      t[segs[i]] = nxt
    elseif type(nxt) ~= "table" then
      usage("field '%s': '%s' is already set to a value", key, concat(segs, ".", 1, i))
    end
    t = nxt
  end
  return node, t
end

-- assign(req, schema, "a.b.c=v" | "a.b:=json", given): `given` holds the
-- keys set so far on the command line, which may override --json but not
-- each other (but for arrays, where a repeat adds an element).
function _M.assign(req, schema, pair, given)
  given = given or {}
  local key, raw = pair:match("^([^=]-):=(.*)$")
  local as_json = key ~= nil
  if not key then key, raw = pair:match("^([^=]+)=(.*)$") end
  if not key or key == "" then
    usage("expected field=value, got '%s'", pair)
  end
  local segs = segments(key)
  local node, t = walk(req, schema, key, segs)
  local last = segs[#segs]
  node = child(node, last)
  local value
  if as_json then
    local v, derr = decode(raw)
    if v == nil then usage("field '%s': not valid JSON after ':=': %s", key, tostring(derr)) end
    value = v
  end
  if not as_json and type(node) == "table" and node.type == "array" then
    -- repeated field=value: one element each
    local list = t[last]
    if not given[key] or type(list) ~= "table" then
      list = {}
      t[last] = list
    end
    given[key] = true
    list[#list + 1] = typed(node.items, raw)
    return
  end
  if given[key] then
    usage("field '%s' is set twice (repeat a field only for arrays)", key)
  end
  given[key] = true
  if value == nil then value = typed(node, raw) end
  t[last] = value
end
local assign = _M.assign

-- request_of(op, words, json) -> the request: --json's object with the
-- field=value words set on it
function _M.request_of(op, list, json)
  local req, given = json or {}, {}
  for _, p in ipairs(list) do assign(req, op.request, p, given) end
  return req
end

------------------------------------------------------------------ names

local LOC = { path = "path", query = "query", header = "header", whole_body = "whole body" }

function _M.type_name(node)
  if type(node) ~= "table" then return "any" end
  local t = node.type or "any"
  if t == "array" then return "array of " .. _M.type_name(node.items) end
  if t == "map" then return "map of " .. _M.type_name(node.values) end
  if t == "object" and not node.fields then return "object (free-form)" end
  return t
end

-- through arrays and maps to the object whose fields are listed, the
-- prefix growing "[]" or ".*" each; -> nil when there is none
local function fields_holder(node, prefix)
  local container = node
  while container.type == "array" or container.type == "map" do
    local inner = container.type == "array" and container.items or container.values
    if type(inner) ~= "table" then return nil end
    prefix = prefix .. (container.type == "array" and "[]" or ".*")
    container = inner
  end
  if not container.fields then return nil end
  return container, prefix
end

-- "  required  query  one of: a, b" or ""
local function field_notes(f)
  if type(f) ~= "table" then return "" end
  local extra = {}
  if f.required then extra[#extra + 1] = "required" end
  if f.location and LOC[f.location] then extra[#extra + 1] = LOC[f.location] end
  local e = f.enum or (f.type == "array" and type(f.items) == "table" and f.items.enum)
  if e then
    local vals = {}
    for i, v in ipairs(e) do vals[i] = tostring(v) end
    extra[#extra + 1] = "one of: " .. concat(vals, ", ")
  end
  return #extra > 0 and ("  " .. concat(extra, "  ")) or ""
end

-- field_lines(node, prefix, lines, stack) -> lines { name, "type notes" }
-- for every field under node, by dotted name; `stack` holds the nodes
-- being listed, so a recursive model is listed once and then named.
local function field_lines(node, prefix, lines, stack)
  if type(node) ~= "table" then return lines end
  local container
  container, prefix = fields_holder(node, prefix)
  if not container then return lines end
  if stack[container] then
    lines[#lines + 1] = { prefix .. ".…", "(recursive: as " .. stack[container] .. ")" }
    return lines
  end
  stack[container] = prefix ~= "" and prefix or "the top"
  local names = {}
  for k in pairs(container.fields) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do
    local f = container.fields[k]
    local name = prefix == "" and k or (prefix .. "." .. k)
    lines[#lines + 1] = { name, _M.type_name(f) .. field_notes(f) }
    field_lines(f, name, lines, stack)
  end
  stack[container] = nil
  return lines
end
_M.field_lines = field_lines

return _M
