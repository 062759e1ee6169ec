-- hwcloud.emulator.control: the admin calls added to hwcloud.emulator.admin
-- for canned answers, the request log, the state and the inventory.
--
--   POST /_emulator/responses  {operation, status? = 200, body?, headers?,
--                               count? = 1}: the next `count` requests of the
--                               operation (after their checks) get this answer
--   POST /_emulator/responses  {method, path, status?, body?, headers?, count?}:
--                               the same for a method and path no description
--                               has (one that has is refused, naming it)
--   GET  /_emulator/responses  the canned answers still pending
--   GET  /_emulator/counts?operation=NAME  {operation, count}, NAME an alias
--                               or the official name
--   GET  /_emulator/log        {requests = [{time, method, path, query,
--                               operation, status, request_id, headers
--                               (signature and tokens hidden), body}]}
--   GET  /_emulator/state      every project's resources and the counts
--   POST /_emulator/inventory  replace the inventory (see
--                               hwcloud.emulator.inventory); GET shows it

local util = require "hwcloud.emulator.util"
local state = require "hwcloud.emulator.state"
local router = require "hwcloud.emulator.router"
local validate = require "hwcloud.emulator.validate"
local inventory = require "hwcloud.emulator.inventory"

local ngx = ngx
local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local sub, find = string.sub, string.find
local json_type = validate.json_type
local send = util.send

local _M = {}

-- An admin API's error answer (here and in hwcloud.emulator.admin).
local function fail(status, msg)
  return send(status, { error_code = "EMULATOR." .. status, error_msg = msg })
end
_M.fail = fail

-- The request's JSON object ({} for no body), or nil when it is not one.
-- keep_arrays: empty arrays stay arrays (the marker), for canned bodies.
local function read_json(keep_arrays)
  local raw = util.request_body()
  if raw == "" then return {} end
  local v = keep_arrays and util.decode_keep_arrays(raw) or util.decode(raw)
  local t = json_type(v)
  if t ~= "object" and t ~= "empty" then return nil end
  return v
end
_M.read_json = read_json

-- Checks a canned answer; returns it or nil, message.
-- body_and_headers(b, into) -> into | nil, message: the body (a string
-- sent as is, or JSON, `[]` kept) and headers of a fault or canned answer
function _M.body_and_headers(b, into)
  if b.body ~= nil and b.body ~= util.null then
    if b.body == util.EMPTY_ARRAY then
      into.body = "[]"
    elseif type(b.body) == "string" then
      into.body = b.body
    elseif type(b.body) == "table" then
      into.body = util.encode(b.body)
    else
      return nil, "body must be a string (sent as is) or a JSON object/array"
    end
  end
  if b.headers ~= nil then
    local t = json_type(b.headers)
    if t ~= "object" and t ~= "empty" then return nil, "headers must be an object" end
    local h = {}
    for k, v in pairs(b.headers) do
      if type(v) ~= "string" and type(v) ~= "number" then
        return nil, "headers." .. tostring(k) .. " must be a string or a number"
      end
      h[k] = tostring(v)
    end
    into.headers = h
  end
  return into
end

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true,
                  OPTIONS = true }

-- The target of a stub by method and path: a path no description has.
local function path_target(b)
  if type(b.method) ~= "string" or not METHODS[b.method] then
    return nil, "method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
  end
  if type(b.path) ~= "string" or sub(b.path, 1, 1) ~= "/" or find(b.path, "[?#%s]") then
    return nil, "path must be an absolute path without a query (\"/v1/...\")"
  end
  if sub(b.path, 1, 10) == "/_emulator" then return nil, "path must not be under /_emulator/" end
  local route = router.match(b.method, b.path)
  if route then
    return nil, b.method .. " " .. b.path .. " is already described: it is the operation "
      .. route.name .. " (register the answer with {\"operation\": \"" .. route.name .. "\"})"
  end
  return { method = b.method, path = b.path, key = b.method .. " " .. b.path }
end

-- count and status of a canned answer into `into`; nil, message if bad
local function count_status(b, into)
  local count = b.count == nil and 1 or b.count
  if json_type(count) ~= "integer" or count < 1 then
    return nil, "count must be a positive integer"
  end
  local status = b.status == nil and 200 or b.status
  if json_type(status) ~= "integer" or status < 100 or status > 599 then
    return nil, "status must be an integer HTTP status (100-599)"
  end
  into.count, into.status = count, status
  return into
end

local function parse_answer(b)
  if b.operation == nil and (b.method ~= nil or b.path ~= nil) then
    local target, why = path_target(b)
    if not target then return nil, why end
    target, why = count_status(b, target)
    if not target then return nil, why end
    return _M.body_and_headers(b, target)
  end
  local route = type(b.operation) == "string" and router.operations[b.operation]
  if not route then
    return nil, "operation must name a described operation (\"<service>.<operation>\"),"
      .. " or give method and path for an API the catalog does not describe"
  end
  local count = b.count == nil and 1 or b.count
  if json_type(count) ~= "integer" or count < 1 then
    return nil, "count must be a positive integer"
  end
  local status = b.status == nil and 200 or b.status
  if json_type(status) ~= "integer" or status < 100 or status > 599 then
    return nil, "status must be an integer HTTP status (100-599)"
  end
  return _M.body_and_headers(b, { operation = route.name, count = count, status = status })
end

_M.routes = {
  ["/_emulator/responses"] = {
    POST = function()
      local b = read_json()
      if not b then return fail(400, "the body must be a JSON object") end
      local a, msg = parse_answer(b)
      if not a then return fail(400, msg) end
      if a.key then
        state.add_path_stub(a.key, a)
        return send(200, { status = "ok", method = a.method, path = a.path, count = a.count })
      end
      state.add_canned(a.operation, a)
      return send(200, { status = "ok", operation = a.operation, count = a.count })
    end,
    GET = function()
      local list = state.pending_canned()
      for _, p in ipairs(state.pending_path_stubs()) do
        list[#list + 1] = { method = p.method, path = p.path, status = p.status,
                            remaining = p.remaining }
      end
      return send(200, { responses = util.array(list) })
    end,
  },
  -- GET /_emulator/counts as in hwcloud.emulator.admin, plus ?operation=NAME
  -- (an alias or the official name): {operation, count}
  ["/_emulator/counts"] = {
    GET = function()
      local op = ngx.req.get_uri_args(10).operation
      if op == nil then return send(200, state.counts()) end
      local route = type(op) == "string" and router.operations[op]
      if not route then return fail(400, "operation must name a described operation") end
      return send(200, { operation = route.name, count = state.counts()[route.name] or 0 })
    end,
  },
  ["/_emulator/log"] = {
    GET = function() return send(200, { requests = util.array(state.request_log()) }) end,
  },
  ["/_emulator/state"] = {
    GET = function()
      return send(200, { projects = state.projects(), counts = state.counts(),
                         inventory = inventory.current() })
    end,
  },
  ["/_emulator/inventory"] = {
    POST = function()
      local b = read_json()
      if not b then return fail(400, "the body must be a JSON object") end
      local ok, msg = inventory.replace(b)
      if not ok then return fail(400, msg) end
      state.reset_projects()
      return send(200, { status = "ok" })
    end,
    GET = function() return send(200, inventory.current()) end,
  },
}

return _M
