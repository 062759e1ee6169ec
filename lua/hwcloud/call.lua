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

local type, tostring, pairs = type, tostring, pairs
local errors = require "hwcloud.errors"
local retry = require "hwcloud.retry"

local _M = {}

local SAFE_METHOD = { GET = true, HEAD = true }

_M.backoff = retry.backoff

-- decode(env, op, c, ctx) -> result | nil, err for a completed HTTP exchange
local function decode(env, op, c, ctx)
  local body = c.body
  local doc, derr
  if body ~= nil and body ~= "" then
    doc, derr = env.json_decode(body)
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
    return nil, errors.decode("response is not valid JSON: " .. tostring(derr), c.status,
      c.headers, ctx)
  end
  if doc == nil then doc = {} end
  if type(doc) == "table" and op.response then doc = env.conform(op.response, doc) end
  local f = op.failure
  if f and type(doc) == "table" and doc[f.field] == f.equals then
    -- the message field is text or an object in any error shape
    -- (CodeArts Build: {error_code, error_msg})
    local m = doc[f.message]
    local e = errors.http(c.status, c.headers, type(m) == "table" and m or nil, nil, ctx)
    if type(m) == "string" and m ~= "" then
      e.message = m
    elseif type(m) ~= "table" or e.message == "HTTP " .. tostring(c.status) then
      e.message = "the service answered " .. f.field .. "=" .. tostring(f.equals)
    end
    return nil, e
  end
  if op.response_headers and type(doc) == "table" then
    for h, field in pairs(op.response_headers) do
      if c.headers[h] then doc[field] = c.headers[h] end
    end
  end
  return doc
end

-- invoke(env, engine, svc, op, req, opts) -> result | nil, err
-- env: the client's private parts (cfg, auth, endpoint(), build, conform,
-- json_decode, now). Runs inside an engine task.
function _M.invoke(env, engine, svc, op, req, opts)
  local cfg = env.cfg
  local ctx = { service = svc.name, operation = op.name }
  local bad, why = retry.check(opts)
  if bad then return nil, errors.validation("opts." .. bad, why, svc.name, op.name) end

  local path, body_or_field, msg = env.build(op, req, cfg.project_id)
  if not path then
    return nil, errors.validation(body_or_field, msg, svc.name, op.name)
  end
  local body = body_or_field
  local base, eerr = env.endpoint(svc)
  if not base then
    eerr.service, eerr.operation = svc.name, op.name
    return nil, eerr
  end
  local url = base .. path
  local method = op.method
  local retries = opts.retries or cfg.retries
  local unsafe_ok = opts.retry_unsafe
  if unsafe_ok == nil then unsafe_ok = cfg.retry_unsafe end
  ctx.safe = SAFE_METHOD[method] or op.idempotent or unsafe_ok or false
  local content_type = body and (svc.content_type or "application/json") or nil
  local topts = {
    timeout = opts.timeout or cfg.timeout,
    connect_timeout = opts.connect_timeout or cfg.connect_timeout,
    -- libcurl itself resends a request whose kept-alive connection closed
    -- before any answer; one not safe to repeat must go out only once
    once = retry.once(ctx.safe),
  }
  local policy = { retries = retries, retry_base = cfg.retry_base,
                   retry_max_delay = cfg.retry_max_delay }

  local attempt = 0
  while true do
    attempt = attempt + 1
    local headers
    if op.unauthenticated then
      headers = env.auth:plain(content_type)
    else
      headers = env.auth:headers(method, url, content_type, body)
    end
    local c = engine:send { method = method, url = url, headers = headers, body = body,
                            opts = topts }
    local result, err
    if c.status then
      result, err = decode(env, op, c, ctx)
    else
      err = errors.transport(c, ctx)
    end
    if result ~= nil then return result end
    err.attempts = attempt
    local delay = retry.decide(err, ctx.safe, attempt, policy)
    if not delay then return nil, err end
    if cfg.on_retry then
      -- for the caller's logs: what failed and when the next try goes out
      cfg.on_retry { service = svc.name, operation = op.name, attempt = attempt,
                     err = err, delay = delay }
    end
    engine:sleep(delay)
  end
end

return _M
