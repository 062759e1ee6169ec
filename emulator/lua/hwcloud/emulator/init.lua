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
local generic = require "hwcloud.emulator.generic"
local obs = require "hwcloud.emulator.obs"
local forms = require "hwcloud.emulator.forms"

local ngx = ngx
local pairs, tonumber, tostring, xpcall, pcall, traceback =
  pairs, tonumber, tostring, xpcall, pcall, debug.traceback
local type = type
local find, sub, concat, floor, max = string.find, string.sub, table.concat, math.floor, math.max
local json_type = validate.json_type
local send = util.send

local _M = { _VERSION = "0.2.0-dev" }

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

-- In the worker, at once after it starts: where every described operation
-- lives (no description loads here). nginx already listens, so a port in
-- use still fails at once; a request that comes first waits for it.
-- `init_worker_by_lua_block { require("hwcloud.emulator").warm() }`.
function _M.warm()
  ngx.timer.at(0, function() require("hwcloud.emulator.catalog").build() end)
end

local MALFORMED = '{"job_id": "this body is cut short on purpose'

-- The body of an injected 4xx or 5xx, in the service's error shape.
local function injected_error(route, status, rid)
  return util.encode(errors.body(route.service, status, "Injected fault: HTTP " .. status, nil, rid))
end

-- Sends the first half of the body under the whole one's Content-Length.
local function send_truncated(f, route, rid)
  local body = f.body
  if not body then
    body = (f.status or 200) >= 400 and injected_error(route, f.status, rid)
      or '{"message":"this body is cut short on purpose"}'
  end
  ngx.status = f.status or 200
  ngx.header["Content-Length"] = #body
  ngx.print(sub(body, 1, max(0, floor(#body / 2))))
  ngx.flush(true)
  return "close"
end

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
  if f.truncate then return send_truncated(f, route, rid) end
  if f.malformed then
    return send(f.status or 200, f.body or MALFORMED) or true
  end
  local status = f.status
  local body = f.body
  if not body then
    body = status >= 400 and injected_error(route, status, rid) or "{}"
  end
  send(status, body)
  return true
end

-- The steps below return a true value once they have answered (send ends
-- the handler; `or true` keeps a step's answer final even if it returned).

local function bad_request(route, msg)
  return send(400, errors.body(route.service, 400, msg)) or true
end

local function invalid(route, field, msg)
  return bad_request(route, "Invalid parameter " .. field .. ": " .. msg)
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

-- No operation at the path: 405 naming the methods it takes (`other`), or
-- the API Gateway's 404.
local function no_route(req, other)
  if other then
    ngx.header["Allow"] = concat(other.methods, ", ")
    return send(405, errors.body(other.service, 405,
      "The method " .. req.method .. " is not allowed for " .. req.path)) or true
  end
  return send(404, errors.body("apig", 404,
    "The API does not exist or has not been published in the environment", "APIG.0101",
    req.rid)) or true
end

-- Counts the request and applies a fault pending for its operation.
local function count_and_fault(route, rid)
  ngx.ctx.hwcloud_operation = route.name -- luacheck: ignore 122 (per-request table)
  -- under the route's own name; GET /_emulator/counts?operation= takes
  -- an alias or the official name
  state.count(route.name)
  local fault = state.take_fault(route.name)
  if fault then return apply_fault(fault, route, rid) end
  return nil
end

-- Authenticates by the route's scheme. Returns done (answered), or nil,
-- the project of a project-scoped request and whether it was signed.
local function authenticate(route, req)
  local method, path, query, headers, body = req.method, req.path, req.query, req.headers, req.body
  if route.auth == "none" then return nil, nil, false end
  if route.auth == "global" then
    local ok, status, msg = auth.check_global(method, path, query, headers, body,
                                              iam_service.DOMAIN_ID)
    if not ok then return errors.auth(status, msg, req.rid) or true end
    return nil, nil, true
  end
  if route.auth == "iam" then
    local authorization = auth.header_value(headers, "authorization")
    if not authorization then return nil end
    local ok, status, msg = auth.verify_signature(method, path, query, headers, body,
                                                  authorization)
    if not ok then return errors.auth(status, msg, req.rid) or true end
    return nil, nil, true
  end
  local project, status, msg = auth.check(method, path, query, headers, body,
                                          req.params.project_id)
  if not project then return errors.auth(status, msg, req.rid) or true end
  return nil, project
end

local pick_twin

local function header_reader(headers)
  return function(name) return auth.header_value(headers, name) end
end

-- A described operation: its body may be any JSON (whole_body arrays).
-- Returns done, or nil and the body when it is a table.
local function check_described(route, req)
  local value
  local form = forms.kind(route.content_type)
  if form then
    -- a form is read as the operation's content type says, from what the
    -- request's Content-Type names (a multipart boundary)
    local ct = auth.header_value(req.headers, "content-type")
    if forms.kind(ct) ~= form then
      return bad_request(route, "The request must be sent as " .. route.content_type
        .. ", not " .. tostring(ct))
    end
    local why
    value, why = forms.parse(ct, req.body, route.request and route.request.fields)
    if not value then return bad_request(route, "The request body is not a valid form: " .. why) end
    forms.note(route.name, value)
  elseif req.body ~= "" and route.json then
    value = util.decode(req.body)
    if value == nil then return bad_request(route, "The request body is not valid JSON") end
    if value == util.null then value = nil end
  end
  local field, msg = described.check(route.request, {
    params = req.params, args = req.args, body = value, header = header_reader(req.headers),
  })
  if field then return invalid(route, field, msg) end
  if type(value) == "table" then return nil, value end
  return nil
end

-- The path, query and header parameters of an operation with a body rule.
local function check_params(route, req)
  local field, msg = described.check(route.params_request, {
    params = req.params, args = req.args, header = header_reader(req.headers),
  }, true)
  if field then return invalid(route, field, msg) end
  return nil
end

-- A JSON object body against the route's body rule (`decoded` when empty).
local function check_body(route, req, decoded)
  if req.body ~= "" then
    local v = util.decode(req.body)
    if v == nil then return bad_request(route, "The request body is not valid JSON") end
    local t = json_type(v)
    if t ~= "object" and t ~= "empty" then
      return bad_request(route, "The request body must be a JSON object")
    end
    decoded = v
  end
  local field, msg = validate.check(route.body, decoded)
  if field then return invalid(route, field, msg) end
  return nil, decoded
end

-- Checks the request against the route's rules. Returns done, or nil and
-- the decoded body the handler gets.
local function check_request(route, req)
  local done, decoded
  if route.request then
    done, decoded = check_described(route, req)
  elseif route.params_request then
    done = check_params(route, req)
  end
  if done then return done end
  decoded = decoded or {}
  if route.body then return check_body(route, req, decoded) end
  return nil, decoded
end

-- The ids a stateful handler answered with belong to its service: a
-- request naming them later is routed there when services share a path.
local function own_ids(route, out)
  local svc = route.sdk_service or route.service
  state.own(out.job_id, svc)
  state.own(out.id, svc)
  for _, v in pairs(out) do
    if type(v) == "table" then state.own(v.id, svc) end
  end
end

-- A canned answer registered for the operation, or its handler's.
local function answer(route, req, decoded, project, signed)
  local latency = state.config.latency_ms
  if latency and latency > 0 then ngx.sleep(latency / 1000) end

  local ctx = {
    method = req.method,
    params = req.params,
    args = req.args,
    route = route,
    body = decoded,
    project_id = project,
    store = project and state.project(project) or nil,
    signed = signed,
    headers = req.headers,
    now = ngx.now(),
    request_id = req.rid,
  }
  local canned = state.take_canned(route.name)
  if canned then return send(canned.status, canned.body, canned.headers) end
  if not route.handler and route.answer == "bytes" then
    -- an answer that is a byte stream (a log, an archive): bytes, not JSON
    return send(200, "hwcloud emulator: the bytes of " .. route.name .. "\n",
                { ["Content-Type"] = "application/octet-stream" })
  end
  if not route.handler then
    -- a described operation no handler serves: its generic answer; one the
    -- description cannot give (a schema it does not foresee) is logged and
    -- answered empty rather than as the emulator's own failure
    local ok, status, out, extra = pcall(generic.handle, ctx)
    if not ok then
      ngx.log(ngx.ERR, "hwcloud emulator: generic answer of ", route.name, ": ", status)
      return send(200, {})
    end
    return send(status, out, extra)
  end
  local status, out, extra = route.handler(ctx)
  if type(out) == "table" and status and status < 300 then own_ids(route, out) end
  return send(status, out, extra)
end

-- Of operations sharing a method and path, the first whose description
-- the request fits (else the first, to report why it does not). The id
-- header says which kind the client meant: X-Domain-Id a global service's
-- operation (IAM's GET /), X-Project-Id a regional one's; those go first.
-- A handler's request fits the checks it makes first: its whole request,
-- or its path, query and headers when it checks its body itself.
local function fits(rt, r)
  return not described.check(rt.request or rt.params_request, r, rt.request == nil)
end

function pick_twin(route, params, twins)
  local body = util.decode(util.request_body())
  if body == util.null then body = nil end
  local headers = ngx.req.get_headers(200)
  local r = { args = ngx.req.get_uri_args(100), body = body, header = header_reader(headers) }
  if twins.lazy then
    -- a handler, first: the operations it shares its path with only when
    -- the request does not fit it
    r.params = params
    if fits(route, r) then return route, params end
    twins = twins.lazy()
    if not twins then return route, params end
  end
  local global
  if headers["x-domain-id"] and not headers["x-project-id"] then global = true
  elseif headers["x-project-id"] then global = false end
  local first, rest = {}, {}
  local function add(e)
    local list = (global == nil or (e.route.auth == "global") == global) and first or rest
    list[#list + 1] = e
  end
  add({ route = route, params = params })
  for i = 1, #twins do add(twins[i]) end
  local all = first
  for i = 1, #rest do all[#all + 1] = rest[i] end
  for i = 1, #all do
    r.params = all[i].params
    if fits(all[i].route, r) then return all[i].route, all[i].params end
  end
  return route, params
end

-- One request, step by step: the admin API, routing, faults, identity log,
-- authentication, request checks, the answer.
local function serve(method, path, query, rid)
  if sub(path, 1, 11) == "/_emulator/" or path == "/_emulator" then
    return admin.handle(method, path)
  end
  local req = { method = method, path = path, query = query, rid = rid }
  local route, params, twins = router.match(method, path, ngx.var.http_host)
  -- object storage: a host naming OBS, an OBS signature, or a bucket the
  -- emulator holds (over a template that starts with a parameter)
  local claim = obs.claims(path, ngx.req.get_headers(200), query)
  if claim == "sure" or (claim and (not route or find(route.path, "^/{"))) then
    ngx.ctx.hwcloud_operation = "obs" -- luacheck: ignore 122 (per-request table)
    return obs.handle(method, path, query, rid)
  end
  if twins then route, params = pick_twin(route, params, twins) end
  if not route then
    -- a canned answer for a method and path no description has
    local stub = state.take_path_stub(method .. " " .. path)
    if stub then
      ngx.ctx.hwcloud_operation = "stub " .. method .. " " .. path -- luacheck: ignore 122
      state.count("stub " .. method .. " " .. path)
      return send(stub.status, stub.body, stub.headers) or true
    end
    return no_route(req, params)
  end
  req.params = params

  local done = count_and_fault(route, rid)
  if done then return done end

  req.body = util.request_body()
  req.headers = ngx.req.get_headers(200)
  state.log_identity(identity_entry(route, req.headers))
  local project, signed
  done, project, signed = authenticate(route, req)
  if done then return done end

  req.args = ngx.req.get_uri_args(100)
  local decoded
  done, decoded = check_request(route, req)
  if done then return done end
  return answer(route, req, decoded, project, signed)
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

-- The request's headers as received, names lower-cased, with the
-- signature and tokens hidden.
local function logged_headers()
  local out = {}
  for k, v in pairs(ngx.req.get_headers(100)) do
    if type(v) == "table" then v = concat(v, ", ") end
    local n = k:lower()
    if n == "authorization" then v = v:gsub("([Ss]ignature=)[^,%s]+", "%1****")
    elseif n == "x-auth-token" or n == "x-security-token" then v = "****" end
    out[n] = v
  end
  return out
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
                      status = ngx.status, headers = logged_headers(),
                      body = ngx.req.get_body_data() or util.null })
end

return _M
