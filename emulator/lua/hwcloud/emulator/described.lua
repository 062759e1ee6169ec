-- hwcloud.emulator.described: routes for every operation of the service
-- descriptions (hwcloud.services), the same ones the client uses. The
-- emulator's own handlers (hwcloud.emulator.services.*) serve the operations
-- it keeps state for; every other described operation is checked
-- (signature, then its request: required fields, types, enums, wherever
-- they travel) and answered by hwcloud.emulator.generic, unless a test
-- registered a canned answer (POST /_emulator/responses).
--
-- Only the descriptions are shared with the client; the checks are this
-- module's own.

local services = require "hwcloud.services"
local validate = require "hwcloud.emulator.validate"

local pairs, type, tostring, tonumber, sort = pairs, type, tostring, tonumber, table.sort
local concat, lower, find, floor = table.concat, string.lower, string.find, math.floor

local _M = {}

-- The service whose error shape an emulated service answers in.
local SHAPE = { servicestage_v2 = "servicestage" }
_M.SHAPE = SHAPE

local function is_json(content_type)
  return type(content_type) ~= "string" or find(content_type, "json", 1, true) ~= nil
end

-- Checks one value that came as text (path, query, header) against its
-- field schema; returns nil or the broken rule.
local function check_text(f, v)
  local t = f.type
  if t == "integer" or t == "number" then
    local n = tonumber(v)
    if not n or (t == "integer" and n ~= floor(n)) then return "expected " .. t end
    v = n
  elseif t == "boolean" then
    if v ~= "true" and v ~= "false" then return "expected boolean" end
    v = v == "true"
  end
  if f.enum then
    for i = 1, #f.enum do
      if f.enum[i] == v or tostring(f.enum[i]) == tostring(v) then return nil end
    end
    local names = {}
    for i = 1, #f.enum do names[i] = tostring(f.enum[i]) end
    return "must be one of " .. concat(names, ", ")
  end
  return nil
end

local function sorted_names(fields)
  local names = {}
  for name in pairs(fields) do names[#names + 1] = name end
  sort(names)
  return names
end

local TEXT_LOCATION = { path = true, query = true, header = true }

-- The value of a path, query or header field as it came.
local function text_value(r, name, loc)
  local v
  if loc == "path" then v = r.params[name]
  elseif loc == "query" then v = r.args[name]
  else v = r.header(lower(name)) end
  if type(v) == "table" then v = v[1] end
  return v
end

-- A path, query or header field; returns nil, or the field and the rule.
local function check_param(f, name, r)
  local v = text_value(r, name, f.location)
  if v == nil or v == true then
    if f.required then return name, "is required" end
  elseif f.type ~= "array" then
    local msg = check_text(f, v)
    if msg then return name, msg end
  end
  return nil
end

-- validate.check names the whole value "": here that is the body
local function check_json(schema, value)
  local field, msg = validate.check(schema, value)
  if field then return field == "" and "body" or field, msg end
  return nil
end

-- A field that is the whole body (an array, say).
local function check_whole_body(f, r)
  if r.body ~= nil then return check_json(f, r.body) end
  if f.required then return "body", "is required" end
  return nil
end

-- Checks a request against an operation's request schema. `r` has params
-- (path), args (query), header (a function name -> value), body (decoded
-- JSON or nil). Returns nil, or the field and the broken rule. With
-- `params_only`, the body is left to the emulator's own handler.
function _M.check(schema, r, params_only)
  local fields = schema and schema.fields
  if not fields then return nil end
  local names = schema.order or sorted_names(fields)
  local in_body = false
  for i = 1, #names do
    local name = names[i]
    local f = fields[name]
    local field, msg
    if TEXT_LOCATION[f.location] then
      field, msg = check_param(f, name, r)
    elseif params_only then -- luacheck: ignore 542
      -- the handler's own body schema
    elseif f.location == "whole_body" then
      field, msg = check_whole_body(f, r)
    else
      in_body = true
    end
    if field then return field, msg end
  end
  if not in_body then return nil end
  local body = r.body
  if body == nil then body = {} end
  return check_json({ type = "object", fields = fields, order = names }, body)
end

_M.is_json = is_json

-- The route of a catalog entry (hwcloud.emulator.catalog): its service's
-- description loads now, at its first request. { service (error shape),
-- name, op, method, path, auth, request, json, response, paging, job,
-- field, described = true }; hwcloud.emulator.generic answers it.
function _M.route(e)
  local svc = assert(services.load(e.field))
  local op = services.operation(svc, e.op)
  if not op then return nil end
  return {
    service = SHAPE[e.field] or SHAPE[e.service] or e.service,
    sdk_service = e.service,
    field = e.field,
    name = e.name,
    op = e.op,
    method = op.method,
    path = op.path,
    auth = svc.global and "global" or nil,
    request = op.request,
    response = op.response,
    paging = op.paging,
    job = op.job,
    jobs = svc.jobs,
    json = is_json(op.content_type),
    content_type = op.content_type,
    answer = op.answer,
    described = true,
  }
end

return _M
