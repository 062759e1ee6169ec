-- hwcloud.emulator.described: routes for every operation of the service
-- descriptions (hwcloud.services), the same ones the client uses. The
-- emulator's own handlers (hwcloud.emulator.services.*) serve the operations
-- it keeps state for; every other described operation is checked
-- (signature, then its request: required fields, types, enums, wherever
-- they travel) and answered 501 "not emulated" in the service's error shape,
-- unless a test registered a canned answer (POST /_emulator/responses).
--
-- Only the descriptions are shared with the client; the checks are this
-- module's own.

local services = require "hwcloud.services"
local validate = require "hwcloud.emulator.validate"
local errors = require "hwcloud.emulator.errors"

local pairs, ipairs, type, tostring, tonumber, sort = pairs, ipairs, type, tostring, tonumber, table.sort
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

local function not_emulated(ctx)
  local route = ctx.route
  return 501, errors.body(route.service, 501, "The operation " .. route.name
    .. " is not emulated (register a canned answer with POST /_emulator/responses)")
end

-- The catalog's fields the emulator routes before any other: the ones it
-- keeps state for (the seed's), and their version fields.
local FIRST = { asm = true, codeartsbuild = true, iam = true, rts = true, servicestage = true,
                servicestage_v2 = true, workspaceapp = true }

-- the fields of the catalog (hwcloud.services' index) in two lists: the
-- first ones, and the rest (loaded at the first request the first ones do
-- not route)
function _M.fields()
  local first, rest = {}, {}
  for _, n in ipairs(services.names()) do
    local e = services.entry(n)
    if FIRST[n] then
      first[#first + 1] = n
    elseif not FIRST[e.service] and n ~= e.service then
      -- every version once; a service's own field is its versions' (see
      -- field_names), so routing the versions routes it
      rest[#rest + 1] = n
    end
  end
  return first, rest
end

-- { ["svc.op"] = "svc_vN.op" }: a service field's operation names, each
-- naming the route of the version it comes from (the first to have it)
function _M.field_names(versions)
  local names = {}
  local routed = {}
  for _, n in ipairs(versions) do routed[n] = true end
  for _, n in ipairs(services.names()) do
    local e = services.entry(n)
    if n == e.service and not FIRST[n] and #e.files > 0 then
      for _, file in ipairs(e.files) do
        local vfield = e.service .. "_" .. file:sub(#e.service + 2)
        if routed[vfield] then
          for op in pairs(require("hwcloud.services.gen." .. file).operations) do
            local k = n .. "." .. op
            if not names[k] then names[k] = vfield .. "." .. op end
          end
        end
      end
    end
  end
  return names
end

-- Every operation of the fields `names` (default: the first ones) as a
-- route: { service (error shape), name, op, method, path, auth, request,
-- json, handler, described = true }, and their aliases as
-- { ["svc.alias"] = "svc.target" }.
function _M.routes(names)
  local out, aliases = {}, {}
  names = names or _M.fields()
  for i = 1, #names do
    local sname = names[i]
    local svc = assert(services.load(sname))
    local ops = sorted_names(svc.all)
    for j = 1, #ops do
      local op = svc.operations[ops[j]]
      out[#out + 1] = {
        service = SHAPE[sname] or services.entry(sname).service,
        name = sname .. "." .. ops[j],
        op = ops[j],
        method = op.method,
        path = op.path,
        auth = svc.global and "global" or nil,
        request = op.request,
        json = is_json(op.content_type),
        handler = not_emulated,
        described = true,
      }
    end
    for alias, target in pairs(svc.aliases) do
      aliases[sname .. "." .. alias] = sname .. "." .. target
    end
  end
  return out, aliases
end

return _M
