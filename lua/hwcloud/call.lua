-- hwcloud.call: one operation, start to end, inside an engine task:
-- build (validate + marshal, C) -> authenticate (sign, C) -> send -> decode,
-- with the retry policy of every hwcloud call.
--
-- The retry policy is hwcloud.retry's: this loop only asks it, after each
-- try, how long to wait or whether to stop. Each try is signed afresh (a
-- new X-Sdk-Date). A request that is not safe to repeat is submitted with
-- `once`: a transport would otherwise send it again on its own when a
-- kept-alive connection closes before answering; with it that try fails
-- as sent, and the policy decides.

local type, tostring, pairs, setmetatable, error = type, tostring, pairs, setmetatable, error
local errors = require "hwcloud.errors"
local null = require("cjson").null
local retry = require "hwcloud.retry"
local limits_mod = require "hwcloud.engine.limits"
local body_mod = require "hwcloud.body"
-- core.build with its refusals worded
local build = require("hwcloud.marshal").build
local services_prepare = require("hwcloud.services").prepare

local _M = {}

local SAFE_METHOD = { GET = true, HEAD = true }
-- fills {project_id} while only the request is being checked
local PROJECT_STANDIN = "00000000000000000000000000000000"

_M.backoff = retry.backoff

-- The request's header fields (location "header", checked by build) as
-- "Name: value" lines; add_fields decides which of them a try sends.
local NO_LINES = setmetatable({}, { __newindex = function() error("read-only", 2) end })

local function header_fields(op, req)
  local names = op.header_names
  if names == nil then
    names = {}
    local fields = op.request and op.request.fields or {}
    for name, f in pairs(fields) do
      if f.location == "header" then
        names[#names + 1] = name
      end
    end
    table.sort(names)
    op.header_names = names
  end
  -- most operations have no header fields: no table for them per call
  if #names == 0 then return NO_LINES end
  local list = {}
  for i = 1, #names do
    local v = req[names[i]]
    if v ~= nil and v ~= null then list[#list + 1] = names[i] .. ": " .. tostring(v) end
  end
  return list
end

-- Adds the header fields' lines to a try's signed lines. A field named
-- as a line already there takes its place (the official SDKs send the
-- request's own Authorization, Accept or X-Sdk-Date), but not the ids and
-- the content type: the SDKs' credentials and the operation overwrite those.
local KEEP_OWN = { ["x-project-id"] = true, ["x-domain-id"] = true, ["content-type"] = true }
local function add_fields(headers, extra)
  local n = #headers
  for i = 1, #extra do
    local line = extra[i]
    local len = #line:match("^[^:]*")
    local name = line:sub(1, len):lower()
    local at
    for j = 1, n do
      local h = headers[j]
      if h:byte(len + 1) == 58 and h:sub(1, len):lower() == name then at = j break end
    end
    if not at then
      headers[#headers + 1] = line
    elseif not KEEP_OWN[name] then
      headers[at] = line
    end
  end
end

-- The URL as hooks see it: no user:password@, and the values of query
-- parameters that look like secrets masked.
local SECRET_PARAM = { "token", "secret", "password", "passwd", "signature", "sk", "key",
                       "credential" }
local function loggable_url(url)
  url = url:gsub("^(%a[%w+.-]*://)[^/?#@]*@", "%1")
  return (url:gsub("([?&])([^=&#]*)=([^&#]*)", function(sep, name, value)
    local n = name:lower()
    for i = 1, #SECRET_PARAM do
      if n:find(SECRET_PARAM[i], 1, true) then return sep .. name .. "=***" end
    end
    return sep .. name .. "=" .. value
  end))
end
_M.loggable_url = loggable_url

-- A request header as it may be shown: the Authorization's scheme, AK and
-- signed header names kept and its signature hidden; tokens hidden.
function _M.loggable_header(name, value)
  local n = name:lower()
  if n == "authorization" then
    local masked = value:gsub("([Ss]ignature=)[^,%s]+", "%1****")
    if masked == value then return "****" end
    return masked
  end
  if n == "x-auth-token" or n == "x-security-token" or n == "x-subject-token" then return "****" end
  return value
end

-- A hook runs through pcall: a failing log line must not break the call.
local function run_hook(hook, info)
  if hook then pcall(hook, info) end
end

-- failure_of(f, c, doc, ctx) -> err | nil: a 200 whose body says it failed
-- (op.failure: {field, equals, message})
local function failure_of(f, c, doc, ctx)
  if not (f and doc[f.field] == f.equals) then return nil end
  -- the message field is text or an object in any error shape
  -- (CodeArts Build: {error_code, error_msg})
  local m = doc[f.message]
  local e = errors.http(c.status, c.headers, type(m) == "table" and m or nil, nil, ctx)
  if type(m) == "string" and m ~= "" then
    e.message = m
  elseif type(m) ~= "table" or e.message == "HTTP " .. tostring(c.status) then
    e.message = "the service answered " .. f.field .. "=" .. tostring(f.equals)
  end
  return e
end

-- decode(env, op, c, ctx) -> result | nil, err for a completed HTTP exchange
local function decode(env, op, c, ctx)
  local body = c.body
  local doc, info -- info: the error, else how many numbers came as whole floats
  if body ~= nil and body ~= "" then
    doc, info = env.json_decode(body)
  end
  if c.status >= 400 then
    return nil, errors.http(c.status, c.headers, doc, body, ctx)
  end
  if c.status >= 300 then
    -- redirects are never followed: a moved endpoint is a configuration error
    local e = errors.http(c.status, c.headers, doc, body, ctx)
    e.message = "unexpected redirect (" .. (c.headers.location or "no location") .. ")"
    return nil, e
  end
  if body ~= nil and body ~= "" and doc == nil then
    return nil, errors.decode("response is not valid JSON: " .. tostring(info), c.status,
      c.headers, ctx)
  end
  if doc == nil then doc = {} end
  if type(doc) ~= "table" then return doc end
  -- integer literals decode as integers; only a number written like 8080.0
  -- can be an integer field still a float, so only then is the schema walked
  if op.response and info and info > 0 then doc = env.conform(op.response, doc) end
  local ferr = failure_of(op.failure, c, doc, ctx)
  if ferr then return nil, ferr end
  for h, field in pairs(op.response_headers or {}) do
    local v = c.headers[h]
    if v then
      if type(field) == "table" then
        for i = 1, #field do doc[field[i]] = v end
      else
        doc[field] = v
      end
    end
  end
  return doc
end

-- outcome(env, op, c, ctx) -> result | nil, err of a completion
local function outcome(env, op, c, ctx)
  local status = c.status
  if not status then return nil, errors.transport(c, ctx) end
  -- an answer that is bytes, not JSON (the metadata service's token)
  if op.answer == "bytes" and status >= 200 and status < 300 then
    if ctx.output then
      if c.file_error then
        return nil, errors.new("transport", { message = "cannot write " .. ctx.output .. ": "
          .. tostring(c.file_error), service = ctx.service, operation = ctx.operation })
      end
      return { status = status, headers = c.headers, path = ctx.output, size = c.file_bytes or 0 }
    end
    return { status = status, headers = c.headers, body = c.body or "" }
  end
  return decode(env, op, c, ctx)
end

-- prepare(env, engine, svc, op, req) -> path, body, base, alternates | nil, err:
-- the request checked and built, the credentials ready, the endpoint found.
-- The request is checked before any identity request goes out; while the
-- project id is still to be looked up, with a stand-in.
-- the form a body takes, by content type (the descriptions name a
-- handful: looked at once each, not on every call): "multipart", "form"
-- or false (JSON, or a string as it is)
local FORM_OF = setmetatable({}, { __index = function(t, ct)
  local k = body_mod.kind(ct) or false
  t[ct] = k
  return k
end })

-- The path names a parameter that is nowhere in the request: no request
-- can fill it (a description the SDKs left incomplete). -> field | nil
local AUTO_PARAM = { project_id = true, domain_id = true }
-- fills {domain_id} while only the request is being checked
local DOMAIN_STANDIN = "00000000000000000000000000000000"

-- An operation whose path names {domain_id} without a request field for
-- it (738 of them: CC, Config, EC, GEIP, ...): the official SDKs fill it
-- with the account's domain id, as {project_id} with the project's. The
-- C core fills only {project_id}: this op is what it builds instead, with
-- a domain_id path field the call fills. -> op | nil
-- A path field typed other than string or integer (octopus's "any" id)
-- is sent as its text, as the SDKs do: the C core takes only those two.
local PATH_TYPE = { string = true, integer = true }
local function domain_op(op)
  local d = op.domain_op
  if d == nil then
    d = false
    local fields = op.request and op.request.fields or {}
    local odd = false
    for _, f in pairs(fields) do
      if f.location == "path" and not PATH_TYPE[f.type] then odd = true end
    end
    local domain = op.path:find("{domain_id}", 1, true) and not fields.domain_id
    if domain or odd then
      d = {}
      for k, v in pairs(op) do d[k] = v end
      local f = {}
      for k, v in pairs(fields) do
        if v.location == "path" and not PATH_TYPE[v.type] then
          v = { type = "string", required = v.required, location = "path" }
        end
        f[k] = v
      end
      if domain then f.domain_id = { type = "string", required = true, location = "path" } end
      d.request = services_prepare({ type = "object", fields = f })
      d.domain_op, d.fills_domain = false, domain
    end
    op.domain_op = d
  end
  return d or nil
end

local function with_domain(req, domain)
  local r = {}
  for k, v in pairs(req) do r[k] = v end
  r.domain_id = domain
  return r
end
local function unfillable(op)
  local u = op.unfillable
  if u == nil then
    u = false
    local fields = op.request and op.request.fields or {}
    for name in op.path:gmatch("{([^{}]+)}") do
      if not AUTO_PARAM[name] and not (fields[name] and fields[name].location == "path") then
        u = name
        break
      end
    end
    op.unfillable = u
  end
  return u or nil
end

-- a form operation's body: { pieces, length } (multipart) or a string
local function form_body(kind, st, req, pid)
  if kind == "multipart" then
    local pieces, length, ct = body_mod.multipart(st, req)
    return { pieces = pieces, length = length }, ct
  end
  local b, field, msg = body_mod.urlencoded(st, req, build, pid)
  if not b then return nil, field, msg end
  return b
end

-- writable(path) -> true | nil, why: an output file can be written (a
-- new one is made and removed again: nothing is left by a call refused)
local function writable(path)
  if type(path) ~= "string" or path == "" then return nil, "expected a file name" end
  local f = io.open(path, "r+b")
  if f then
    f:close()
    return true
  end
  local err
  f, err = io.open(path, "ab")
  if not f then return nil, "cannot be written: " .. tostring(err) end
  f:close()
  os.remove(path)
  return true
end

-- what is refused before building: a path parameter no request can
-- fill, an output the answer cannot go to -> nil | field, rule
local function refused(op, opts)
  local hole = not op.generic and unfillable(op)
  if hole then
    return hole, "is in the operation's path (" .. op.path .. ") but not in its request "
      .. "description, so no request can give it: use client:request"
  end
  if opts.output ~= nil then
    if op.answer ~= "bytes" then
      return "opts.output", "is only for an operation whose answer is bytes, and " .. op.name
        .. " answers JSON"
    end
    local ok, why = writable(opts.output)
    if not ok then return "opts.output", why end
  end
  return nil
end

-- what the C core builds: the op, or the one with its form's files
-- checked or its {domain_id} to fill -> kind, form state, op, request,
-- whether the domain is filled | nil, field, rule
local function to_build(env, op, req)
  local ct = op.content_type
  local kind = ct and not op.generic and FORM_OF[ct] or false
  local st, bop, breq = nil, op, req
  if kind then
    local field, msg
    st, field, msg = body_mod.prepare(op, req)
    if not st then return nil, field, msg end
    bop, breq = st.check, st.req
  end
  local dop = not op.generic and domain_op(bop)
  if dop then
    bop = dop
    if dop.fills_domain then breq = with_domain(breq, env.auth.domain_id or DOMAIN_STANDIN) end
  end
  return kind, st, bop, breq, dop and dop.fills_domain
end

local function prepare(env, engine, svc, op, req, opts)
  local kind, st, bop, breq, dop = to_build(env, op, req)
  if kind == nil then return nil, errors.validation(st, bop, svc.name, op.name) end
  local rfield, rmsg = refused(op, opts)
  if rfield then return nil, errors.validation(rfield, rmsg, svc.name, op.name) end
  local auth = env.auth
  local pid = auth:project()
  local path, body_or_field, msg = build(bop, breq, pid or PROJECT_STANDIN)
  if not path then
    return nil, errors.validation(body_or_field, msg, svc.name, op.name)
  end
  if not op.unauthenticated then
    local ok, aerr = auth:prepare(engine, svc, opts.identity)
    if not ok then
      aerr.service, aerr.operation = svc.name, op.name
      return nil, aerr
    end
  end
  if dop and breq.domain_id == DOMAIN_STANDIN then
    -- the account's domain id, given or looked up once
    local ok, derr = auth:ensure_domain(engine)
    if not ok then return nil, derr end
    breq.domain_id = auth.domain_id
    pid = nil -- built again below
  end
  if pid == nil then
    pid = auth:project()
    path, body_or_field, msg = build(bop, breq, pid)
    if not path then
      return nil, errors.validation(body_or_field, msg, svc.name, op.name)
    end
  end
  local body = body_or_field
  if op.raw_body then body = op.raw_body end -- the generic call's string body
  local form_ct
  if kind then
    body, form_ct, msg = form_body(kind, st, req, pid)
    if not body then return nil, errors.validation(form_ct, msg, svc.name, op.name) end
  end
  -- (an identity request names its endpoint: IAM's, or the metadata service)
  local base, eerr = opts.endpoint, nil
  if not base then base, eerr = env.endpoint(svc) end
  if not base then
    eerr.service, eerr.operation = svc.name, op.name
    return nil, eerr
  end
  -- with a base, the second value is the failover list of the region;
  -- then a multipart body's content type (with its boundary)
  return path, body, base, eerr, form_ct
end

-- send_once(env, engine, t) -> completion | nil, err: one try, signed
-- afresh, with the hooks around it. t: svc, op, method, url, base, body,
-- content_type, extra (header lines), topts, rate, attempt, timeout, asked
-- (when the try was asked for: its timeout counts from then).
local function send_once(env, engine, t)
  local cfg, svc, op = env.cfg, t.svc, t.op
  -- the wait for a pause or a rate slot is part of the try's timeout, and
  -- comes before signing (a signature ages)
  local timeout, now = t.timeout, env.now
  local deadline = t.asked + timeout
  if not limits_mod.gate(env.limits, engine, now, t.base, t.rate, deadline) then
    return nil, errors.new("timeout", {
      message = "not sent: the endpoint is held (a 429's pause or the rate limit) until "
        .. "after this call's timeout", service = svc.name, operation = op.name,
      attempts = t.attempt, sent = false })
  end
  local left = deadline - now()
  if left <= 0 then
    return nil, errors.new("timeout", { message = "not sent: the call's timeout passed before "
      .. "it could go out", service = svc.name, operation = op.name, attempts = t.attempt,
      sent = false })
  end
  -- most tries wait for nothing: their timeout stays the option's
  t.topts.timeout = left < timeout - 0.001 and left or timeout
  local headers, aerr
  if op.unauthenticated then
    headers = env.auth:plain(t.content_type)
  else
    headers, aerr = env.auth:headers(engine, svc, t.method, t.url, t.content_type, t.sign_body,
                                     t.identity, t.unsigned)
    if not headers then
      aerr.service, aerr.operation, aerr.attempts = svc.name, op.name, t.attempt
      return nil, aerr
    end
    -- which credentials signed this try: a 401 to them refreshes them once
    t.gen = env.auth:generation()
  end
  add_fields(headers, t.extra)
  local hook_url = (cfg.on_request or cfg.on_response) and loggable_url(t.url)
  if cfg.on_request then
    run_hook(cfg.on_request, { service = svc.name, operation = op.name, method = t.method,
                               url = hook_url, attempt = t.attempt })
  end
  local started = cfg.on_response and env.now()
  local c = engine:send { method = t.method, url = t.url, headers = headers, body = t.wire_body,
                          opts = t.topts }
  if cfg.on_response then
    run_hook(cfg.on_response, { service = svc.name, operation = op.name, method = t.method,
      url = hook_url, attempt = t.attempt, status = c.status, http_version = c.http_version,
      request_id = c.headers and c.headers["x-request-id"] or nil,
      duration = env.now() - started, error = (not c.status) and c.message or nil })
  end
  return c
end

-- whether the request may be sent twice: GET/HEAD, an idempotent
-- operation, or retry_unsafe (the call's, else the client's)
local function safe_to_repeat(op, opts, cfg)
  local unsafe_ok = opts.retry_unsafe
  if unsafe_ok == nil then unsafe_ok = cfg.retry_unsafe end
  return SAFE_METHOD[op.method] or op.idempotent or unsafe_ok or false
end
_M.safe_to_repeat = safe_to_repeat

-- after_failure(env, t, err, ctx, opts) -> delay | nil, renew: the wait
-- before the next try (nil: none), and whether that try is the one after a
-- credentials refresh. The retry policy's answer, with what a 401 to stale
-- credentials and a 429 mean beyond it.
local function after_failure(env, t, err, ctx, opts)
  local cfg = env.cfg
  t.policy = t.policy or { retries = opts.retries or cfg.retries, retry_base = cfg.retry_base,
                           retry_max_delay = cfg.retry_max_delay }
  local policy = t.policy
  if t.refreshed == 0 and t.gen ~= nil and env.auth:refresh_on(err, t.gen) then
    -- temporary keys or a token the cloud says must be updated: fetched
    -- again for the next try, at once and only once per call (the 401
    -- means the request was not taken); it uses none of the retries
    t.refreshed = 1
    return 0, true
  end
  local delay = retry.decide(err, ctx.safe, t.attempt - t.refreshed, policy)
  if err.status == 429 then
    -- the gateway's limit is the endpoint's: every task of the fan-out
    -- waits, not only this one. A Retry-After longer than this client
    -- waits is this call's error, not a pause for all; no pause is
    -- longer than retry_max_delay.
    local ra, cap = err.retry_after, policy.retry_max_delay or retry.MAX_DELAY
    if ra == nil or ra <= cap then
      limits_mod.pause(env.limits, env.now, t.base, ra or delay, cap)
    end
  end
  return delay, false
end

-- the official SDKs send the operation's Content-Type on every request,
-- bodiless ones included; false: none (the metadata service)
local function content_type_of(op, svc)
  local ct = op.content_type
  if ct == nil then ct = svc.content_type or "application/json" end
  return ct or nil
end

-- JSON and BSON bodies are signed; the official SDKs send every other
-- body with X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD
local function is_json_type(ct)
  return ct == nil or ct:find("^application/json") ~= nil or ct:find("^application/bson") ~= nil
end

-- final(err, opts) -> whether a failure is the answer at once, before the
-- retry policy: a host that does not resolve is the configuration's (said
-- so in the message), and an address a probe never reached (the metadata
-- service off an ECS host) is the source's absence. The caller asks only
-- when no failover endpoint is left to try.
local function final(err, opts)
  if retry.misconfigured(err) then
    err.message = tostring(err.message or "no such host")
      .. " (a configuration error: check the region and endpoint)"
  elseif not (opts.probe and err.sent == false) then
    return false
  end
  err.retryable = false
  return true
end

-- failover(t, c, alternates, path, err, opts) -> whether the failure is
-- the answer at once. An endpoint never reached sends the next try to the
-- next one of the region's failover list (as the official SDKs fail over);
-- with none left, `final` decides.
local function failover(t, c, alternates, path, err, opts)
  local nxt = alternates and c.sent == false and alternates[t.attempt]
  if nxt then
    t.url = nxt .. path
    return false
  end
  return final(err, opts)
end

-- invoke(env, engine, svc, op, req, opts) -> result | nil, err
-- env: the client's private parts (cfg, auth, endpoint(), conform,
-- json_decode, now). Runs inside an engine task; the identity requests the
-- call needs (hwcloud.identity.auth) are calls of this same function. opts
-- were checked by the client (hwcloud.options, with the client's rules), or
-- are an identity request's: `identity` (signed with the client's keys or
-- token, without X-Project-Id/X-Domain-Id, needing no project or domain
-- id), `endpoint` (where it goes) and `probe` (a source that may not be
-- there: a try that never reached it is not made again).
function _M.invoke(env, engine, svc, op, req, opts)
  local cfg = env.cfg
  local asked = env.now()
  local ctx = { service = svc.name, operation = op.name }
  env.limits = env.limits or limits_mod.limits()
  local path, body, base, alternates, form_ct = prepare(env, engine, svc, op, req, opts)
  if not path then return nil, body end
  ctx.output = opts.output

  ctx.safe = safe_to_repeat(op, opts, cfg)
  local t = {
    svc = svc, op = op, method = op.method, url = base .. path, base = base,
    content_type = form_ct or content_type_of(op, svc),
    identity = opts.identity,
    extra = header_fields(op, req), rate = opts.rate or cfg.rate, attempt = 0,
    timeout = opts.timeout or cfg.timeout, asked = asked,
    refreshed = 0, -- tries made again after a credentials refresh (0 or 1)
    -- (policy: made at the first failure, as most calls never need it)
    topts = {
      timeout = opts.timeout or cfg.timeout,
      connect_timeout = opts.connect_timeout or cfg.connect_timeout,
      -- libcurl itself resends a request whose kept-alive connection closed
      -- before any answer; one not safe to repeat must go out only once
      once = retry.once(ctx.safe),
      -- a byte-stream answer written to a file as it arrives
      download_file = opts.output,
    },
  }
  if type(body) == "table" then
    -- a multipart body: sent in pieces, its files read as it goes
    t.topts.upload_pieces = body.pieces
    t.sign_body = nil
  else
    t.sign_body, t.wire_body = body, body
  end
  -- the official SDKs sign a body that is not JSON as UNSIGNED-PAYLOAD
  t.unsigned = body ~= nil and body ~= "" and not is_json_type(t.content_type)

  while true do
    t.attempt = t.attempt + 1
    local c, aerr = send_once(env, engine, t)
    if not c then
      return nil, aerr
    end
    local result, err = outcome(env, op, c, ctx)
    if result ~= nil then
      return result
    end
    err.attempts = t.attempt
    if failover(t, c, alternates, path, err, opts) then return nil, err end
    local delay, renew = after_failure(env, t, err, ctx, opts)
    if not delay then
      return nil, err
    end
    if cfg.on_retry and not renew then
      -- for the caller's logs: what failed and when the next try goes out
      run_hook(cfg.on_retry, { service = svc.name, operation = op.name, attempt = t.attempt,
                               err = err, delay = delay })
    end
    engine:sleep(delay)
    t.asked = env.now()
  end
end

return _M
