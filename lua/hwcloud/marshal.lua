-- hwcloud.marshal: core.build (validate a request against its operation's
-- schema, then write "path?query" and the JSON body) with its refusals in
-- words. The C core names the field and the rule it broke; for three rules
-- the message says more, worded here since it runs only on a refusal:
--   expected       "expected integer, got number 1.5" (from the value)
--   must be one of the enum's strings
--   unknown field  with the closest declared name, when one is close
-- build(op, req, project_id) -> path, body | nil, field, message
-- An operation's first build also makes its plan here (plan below).

local type, next, error, format, concat = type, next, error, string.format, table.concat
local tonumber, gsub, find, sub = tonumber, string.gsub, string.find, string.sub
local floor, huge = math.floor, math.huge
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

-- where a field goes: the numbers of marshal.c's LOC_*
local LOCATIONS = { body = 0, query = 1, path = 2, header = 3, whole_body = 4 }
-- an operation without parameters: an empty closed object
local NO_REQUEST = { type = "object", fields = {}, order = {} }

-- the library's own bug (a malformed op or schema): raised, as core.build
-- raises it
local function misuse(msg)
  error("bad argument #1 to 'build' (" .. msg .. ")", 0)
end

-- where each field of the request's `order` goes (LOCATIONS)
local function locations(fields, order)
  local locs = {}
  for i = 1, #order do
    local f = fields[order[i]]
    if type(f) ~= "table" then misuse("`order` names a field that is not in `fields`") end
    local loc = f.location
    locs[i] = LOCATIONS[type(loc) == "string" and loc or "body"]
      or misuse("field location must be path, query, header, whole_body or body")
  end
  return locs
end

-- op.path split: literal strings, { name } for a parameter the request
-- declares with location "path", false for the client's {project_id}
-- (unless the request declares a project_id of its own)
local function pieces_of(path, fields)
  local pieces, at = {}, 1
  while true do
    local open = find(path, "{", at, true)
    if not open then
      if at <= #path then pieces[#pieces + 1] = sub(path, at) end
      return pieces
    end
    if open > at then pieces[#pieces + 1] = sub(path, at, open - 1) end
    local close = find(path, "}", open + 1, true) or misuse("op.path has an unclosed '{'")
    local name = sub(path, open + 1, close - 1)
    local f = fields[name]
    if type(f) == "table" and f.location == "path" then
      pieces[#pieces + 1] = { name }
    elseif name == "project_id" then
      pieces[#pieces + 1] = false
    else
      misuse('op.path names a parameter that op.request does not declare with location = "path"')
    end
    at = close + 1
  end
end

-- plan(op) -> { request schema, path pieces, locations }, what core.build
-- keeps of an operation after its first build (marshal.c: "Plans"),
-- the operation checked on the way
function _M.plan(op)
  if type(op.method) ~= "string" then misuse("op.method must be a string") end
  if type(op.path) ~= "string" then misuse("op.path must be a string") end
  local schema = op.request or NO_REQUEST
  if type(schema) ~= "table" or schema.type ~= "object" or type(schema.fields) ~= "table" then
    misuse("op.request must be an object schema with fields")
  end
  if type(schema.order) ~= "table" then misuse("object schema without `order` (not prepared)") end
  local locs = locations(schema.fields, schema.order)
  return { schema, pieces_of(op.path, schema.fields), locs }
end

function _M.build(op, req, pid)
  local path, body, rule, detail, value = core_build(op, req, pid)
  if path then return path, body end
  return nil, body, _M.message(rule, detail, value)
end

return _M
