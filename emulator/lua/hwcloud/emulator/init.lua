-- hwcloud.emulator: a local Huawei Cloud emulator for the deployment APIs,
-- hosted by nginx with its Lua module (see bin/hwcloud-emulator).
--
-- It checks AK/SK signatures and IAM tokens, validates request bodies against
-- the API documents, keeps per-project state (jobs, deployments, workshops),
-- moves jobs along over --job-seconds, and lets tests inject faults through
-- the admin API under /_emulator/ (hwcloud.emulator.admin).
--
-- It does not use any part of the hwcloud client, so each checks the other.

local util = require "hwcloud.emulator.util"
local state = require "hwcloud.emulator.state"
local errors = require "hwcloud.emulator.errors"
local router = require "hwcloud.emulator.router"
local auth = require "hwcloud.emulator.auth"
local validate = require "hwcloud.emulator.validate"
local admin = require "hwcloud.emulator.admin"
local iam_service = require "hwcloud.emulator.services.iam"
local described = require "hwcloud.emulator.described"
local inventory = require "hwcloud.emulator.inventory"

local ngx = ngx
local pairs, tonumber, tostring, xpcall, traceback = pairs, tonumber, tostring, xpcall, debug.traceback
local type = type
local find, sub, concat, floor, max = string.find, string.sub, table.concat, math.floor, math.max
local json_type = validate.json_type
local send = util.send

local _M = { _VERSION = "0.1.0" }

-- Reads settings from the environment (set by bin/hwcloud-emulator):
-- HWCLOUD_EMULATOR_AK, _SK, _JOB_SECONDS, _LATENCY_MS. `opts` overrides them.
function _M.configure(opts)
  opts = opts or {}
  local cfg = state.config
  local getenv = os.getenv
  cfg.ak = opts.ak or getenv("HWCLOUD_EMULATOR_AK") or cfg.ak
  cfg.sk = opts.sk or getenv("HWCLOUD_EMULATOR_SK") or cfg.sk
  cfg.job_seconds = tonumber(opts.job_seconds or getenv("HWCLOUD_EMULATOR_JOB_SECONDS"))
    or cfg.job_seconds
  cfg.latency_ms = tonumber(opts.latency_ms or getenv("HWCLOUD_EMULATOR_LATENCY_MS"))
    or cfg.latency_ms
  local file = opts.inventory or getenv("HWCLOUD_EMULATOR_INVENTORY")
  if file and file ~= "" then
    -- a bad file stops nginx at start, with this message in its error log
    assert(inventory.load_file(file))
  end
  return cfg
end

local MALFORMED = '{"job_id": "this body is cut short on purpose'

-- Answers with an injected fault. Returns "close" when the connection must be
-- closed without (or in the middle of) a response, true when answered, or
-- nil when the request goes on normally (a delay-only fault).
local function apply_fault(f, route, rid)
  if f.delay_ms and f.delay_ms > 0 then ngx.sleep(f.delay_ms / 1000) end
  if f.drop then return "close" end
  if not (f.status or f.truncate or f.malformed) then return nil end
  local h = ngx.header
  if f.headers then
    for k, v in pairs(f.headers) do h[k] = v end
  end
  if f.truncate then
    local body = f.body
    if not body then
      body = (f.status or 200) >= 400
        and util.encode(errors.body(route.service, f.status, "Injected fault: HTTP " .. f.status,
                                    nil, rid))
        or '{"message":"this body is cut short on purpose"}'
    end
    ngx.status = f.status or 200
    h["Content-Length"] = #body
    ngx.print(sub(body, 1, max(0, floor(#body / 2))))
    ngx.flush(true)
    return "close"
  end
  if f.malformed then
    return send(f.status or 200, f.body or MALFORMED) or true
  end
  local status = f.status
  local body = f.body
  if not body then
    if status >= 400 then
      body = util.encode(errors.body(route.service, status,
        "Injected fault: HTTP " .. status, nil, rid))
    else
      body = "{}"
    end
  end
  send(status, body)
  return true
end

local function bad_request(route, msg)
  return send(400, errors.body(route.service, 400, msg))
end

-- What the identity log keeps of a request: ids and which credentials came
-- with it, never a secret.
local function identity_entry(route, headers)
  local h = auth.header_value
  local authorization = h(headers, "authorization")
  return {
    operation = route.name,
    project_id = h(headers, "x-project-id"),
    domain_id = h(headers, "x-domain-id"),
    access_key = authorization and auth.parse_authorization(authorization) or nil,
    security_token = h(headers, "x-security-token") ~= nil,
    auth_token = h(headers, "x-auth-token") ~= nil,
  }
end

local function serve(method, path, query, rid)
  if sub(path, 1, 11) == "/_emulator/" or path == "/_emulator" then
    return admin.handle(method, path)
  end

  local route, params = router.match(method, path)
  if not route then
    local other = params
    if other then
      ngx.header["Allow"] = concat(other.methods, ", ")
      return send(405, errors.body(other.service, 405,
        "The method " .. method .. " is not allowed for " .. path))
    end
    return send(404, errors.body("apig", 404,
      "The API does not exist or has not been published in the environment", "APIG.0101", rid))
  end

  local req_ctx = ngx.ctx
  req_ctx.hwcloud_operation = route.name -- luacheck: ignore 122 (per-request table)
  -- under the route's own name; GET /_emulator/counts?operation= takes
  -- an alias or the official name
  state.count(route.name)
  local fault = state.take_fault(route.name)
  if fault then
    local done = apply_fault(fault, route, rid)
    if done then return done end
  end

  local body = util.request_body()
  local headers = ngx.req.get_headers(200)
  local project, signed
  state.log_identity(identity_entry(route, headers))
  if route.auth == "none" then
    signed = false
  elseif route.auth == "global" then
    local ok, status, msg = auth.check_global(method, path, query, headers, body,
                                              iam_service.DOMAIN_ID)
    if not ok then return errors.auth(status, msg, rid) end
    signed = true
  elseif route.auth == "iam" then
    local authorization = auth.header_value(headers, "authorization")
    if authorization then
      local ok, status, msg = auth.verify_signature(method, path, query, headers, body,
                                                    authorization)
      if not ok then return errors.auth(status, msg, rid) end
      signed = true
    end
  else
    local status, msg
    project, status, msg = auth.check(method, path, query, headers, body, params.project_id)
    if not project then return errors.auth(status, msg, rid) end
  end

  local decoded = {}
  local args = ngx.req.get_uri_args(100)
  if route.request then
    -- a described operation: its body may be any JSON (whole_body arrays)
    local value
    if body ~= "" and route.json then
      value = util.decode(body)
      if value == nil then return bad_request(route, "The request body is not valid JSON") end
      if value == util.null then value = nil end
    end
    local field, msg = described.check(route.request, {
      params = params, args = args, body = value,
      header = function(name) return auth.header_value(headers, name) end,
    })
    if field then
      return bad_request(route, "Invalid parameter " .. field .. ": " .. msg)
    end
    if type(value) == "table" then decoded = value end
  elseif route.body or route.params_request then
    if route.params_request then
      local field, msg = described.check(route.params_request, {
        params = params, args = args,
        header = function(name) return auth.header_value(headers, name) end,
      }, true)
      if field then
        return bad_request(route, "Invalid parameter " .. field .. ": " .. msg)
      end
    end
  end
  if route.body then
    if body ~= "" then
      local v = util.decode(body)
      if v == nil then return bad_request(route, "The request body is not valid JSON") end
      local t = json_type(v)
      if t ~= "object" and t ~= "empty" then
        return bad_request(route, "The request body must be a JSON object")
      end
      decoded = v
    end
    local field, msg = validate.check(route.body, decoded)
    if field then
      return bad_request(route, "Invalid parameter " .. field .. ": " .. msg)
    end
  end

  local latency = state.config.latency_ms
  if latency and latency > 0 then ngx.sleep(latency / 1000) end

  local ctx = {
    method = method,
    params = params,
    args = args,
    route = route,
    body = decoded,
    project_id = project,
    store = project and state.project(project) or nil,
    signed = signed,
    headers = headers,
    now = ngx.now(),
    request_id = rid,
  }
  local answer = state.take_canned(route.name)
  if answer then return send(answer.status, answer.body, answer.headers) end
  local status, out, extra = route.handler(ctx)
  return send(status, out, extra)
end

local function on_error(err)
  return traceback(tostring(err), 2)
end

-- The content handler: `content_by_lua_block { require("hwcloud.emulator").handle() }`.
function _M.handle()
  local rid = util.request_id()
  local h = ngx.header
  h["X-Request-Id"] = rid
  h["Content-Type"] = "application/json"

  local uri = ngx.var.request_uri
  local q = find(uri, "?", 1, true)
  local path, query = uri, ""
  if q then path, query = sub(uri, 1, q - 1), sub(uri, q + 1) end
  local method = ngx.req.get_method()

  if sub(path, 1, 10) ~= "/_emulator" then
    ngx.ctx.hwcloud_log = { time = ngx.now(), method = method, path = path, query = query,
                            request_id = rid }
  end
  local ok, res = xpcall(serve, on_error, method, path, query, rid)
  if not ok then
    ngx.log(ngx.ERR, "hwcloud emulator: ", res)
    if not ngx.headers_sent then
      send(500, { error_code = "EMULATOR.500", error_msg = "internal emulator error" })
    end
    return
  end
  if res == "close" then return ngx.exit(444) end
end

-- The log handler: `log_by_lua_block { require("hwcloud.emulator").log() }`
-- records the request once its answer is known (send() ends the content
-- handler, so the content phase cannot).
function _M.log()
  local req_ctx = ngx.ctx
  local entry = req_ctx.hwcloud_log
  if not entry then return end
  state.log_request({ time = entry.time, method = entry.method, path = entry.path,
                      query = entry.query, request_id = entry.request_id,
                      operation = req_ctx.hwcloud_operation or util.null,
                      status = ngx.status })
end

return _M
