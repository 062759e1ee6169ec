-- hwcloud.errors: the one error type of hwcloud, built here for every layer.
--
-- An error is a table with `kind` ("validation", "transport", "timeout",
-- "http", "decode", "job_failed", "unknown_outcome"), and when known `status`, `code`,
-- `message`, `request_id`, `service`, `operation`, `field`, `retryable`.
-- tostring(err) gives one readable line. Nothing secret is ever stored in
-- an error: no request headers, no credentials, no request body.

local type, tostring, pairs, ipairs, setmetatable, getmetatable =
  type, tostring, pairs, ipairs, setmetatable, getmetatable
local tonumber, huge = tonumber, math.huge
local concat, format = table.concat, string.format
local retry = require "hwcloud.retry"

local _M = {}

local Error = {}
Error.__index = Error

local KINDS = {
  validation = true, transport = true, timeout = true,
  http = true, decode = true, job_failed = true,
  unknown_outcome = true, -- hwcloud.journal: sent, no answer recorded, not safe to repeat
}

function Error.__tostring(e)
  local parts = { "hwcloud" }
  if e.service then
    parts[#parts + 1] = e.operation and (e.service .. "." .. e.operation) or e.service
  end
  local head = e.kind
  if e.status then head = head .. " " .. tostring(e.status) end
  if e.code and tostring(e.code) ~= tostring(e.status) then
    head = head .. " " .. tostring(e.code)
  end
  parts[#parts + 1] = head
  local line = concat(parts, ": ")
  if e.field then line = line .. ": field '" .. e.field .. "'" end
  if e.message and e.message ~= "" then line = line .. ": " .. e.message end
  if e.request_id then line = line .. " (request id " .. e.request_id .. ")" end
  -- a validation error is the configuration's or the request's: how many
  -- tries were made before it showed says nothing about it
  if e.attempts and e.attempts > 1 and e.kind ~= "validation" then
    line = line .. " (after " .. tostring(e.attempts) .. " attempts)"
  elseif e.unsafe then
    -- a failure a safe request would have been tried again for
    line = line .. " (1 attempt: not repeated, the request may have been taken and is not "
      .. "safe to repeat; retry_unsafe = true allows it)"
  end
  return line
end

function _M.is(v)
  return type(v) == "table" and getmetatable(v) == Error
end

-- new(kind, fields): fields is copied, so callers cannot leak extra data by
-- passing a table they keep using.
function _M.new(kind, fields)
  assert(KINDS[kind], "unknown error kind")
  local e = { kind = kind }
  if fields then
    for k, v in pairs(fields) do e[k] = v end
  end
  if e.retryable == nil then e.retryable = false end
  return setmetatable(e, Error)
end

function _M.validation(field, message, service, operation)
  return _M.new("validation", {
    field = field, message = message, service = service, operation = operation,
  })
end

-- Keeps a short, single-line excerpt of a non-JSON body (an HTML 502 page):
-- tags dropped, white space folded, at most 200 bytes.
-- Only a prefix is read, and a tag ends at the next '<' too, so the work
-- is linear in a bounded length whatever the page holds (a run of '<'
-- without '>' made the old pattern quadratic).
local EXCERPT_SCAN = 4096
local function excerpt(body)
  if type(body) ~= "string" or body == "" then return nil end
  local text = body:sub(1, EXCERPT_SCAN):gsub("<[^<>]*>", " "):gsub("%s+", " ")
  text = text:gsub("^ ", ""):gsub(" $", "")
  if #text > 200 then text = text:sub(1, 197) .. "..." end
  if text == "" then return nil end
  return text
end

local function str(v)
  local t = type(v)
  if t == "string" and v ~= "" then return v end
  if t == "number" then return tostring(v) end
  return nil
end

local CODE_KEYS = { "error_code", "errorCode", "code" }
local MSG_KEYS = { "error_msg", "errorMsg", "errorMessage", "message", "msg" }

-- Finds code and message in any of the shapes the services use:
-- {error_code,error_msg}, {errorCode,errorMsg|errorMessage}, {code,message},
-- Heat's {code=400, error={message,type}}, {"error": "text"}, a top-level
-- array of those, or nested objects. A numeric code equal to the HTTP
-- status says nothing new, so a nested one is preferred.
local find

-- the first code key, skipping a number that only repeats the status
local function own_code(doc, status)
  for _, k in ipairs(CODE_KEYS) do
    local v = str(doc[k])
    if v and not (type(doc[k]) == "number" and doc[k] == status) then return v end
  end
  return nil
end

local function own_message(doc)
  for _, k in ipairs(MSG_KEYS) do
    local msg = str(doc[k])
    if msg then return msg end
  end
  return nil
end

-- doc.error: a message string, or an object of its own
local function from_error_key(doc, status, depth, code, msg)
  local nested = doc.error
  if type(nested) == "string" and nested ~= "" then
    return code, msg or nested
  elseif type(nested) == "table" then
    local ncode, nmsg = find(nested, status, depth + 1)
    return code or ncode or str(nested.type), msg or nmsg
  end
  return code, msg
end

-- what is still missing, from the other nested objects
local function from_children(doc, status, depth, code, msg)
  for k, v in pairs(doc) do
    if k ~= "error" and type(v) == "table" then
      local ncode, nmsg = find(v, status, depth + 1)
      code = code or ncode
      msg = msg or nmsg
      if code and msg then break end
    end
  end
  return code, msg
end

function find(doc, status, depth)
  if type(doc) ~= "table" or depth > 4 then return nil, nil end
  if doc[1] ~= nil and type(doc[1]) == "table" then
    return find(doc[1], status, depth + 1)
  end
  local code, msg = from_error_key(doc, status, depth, own_code(doc, status), own_message(doc))
  -- Heat's top-level explanation is generic; error.message has the detail
  msg = msg or str(doc.explanation)
  if not code or not msg then
    code, msg = from_children(doc, status, depth, code, msg)
  end
  return code, msg
end

-- Kept for callers of 0.1: the policy itself lives in hwcloud.retry.
function _M.retryable_status(status, safe)
  return retry.repeatable({ kind = "http", status = status }, safe)
end

-- whether the policy would repeat this error for a safe request but not
-- for this one (tostring then says why it was not repeated)
local function unsafe_only(e, ctx)
  return ctx ~= nil and not ctx.safe and retry.repeatable(e, true)
    and not retry.repeatable(e, false)
end

-- Retry-After in seconds; an HTTP date falls back to our own backoff.
local function retry_after(headers)
  local v = headers and headers["retry-after"]
  local secs = v and tonumber(v)
  if secs and secs >= 0 and secs < huge then return secs end
  return nil
end

-- from_response(status, headers, doc, body, ctx): doc is the decoded JSON
-- (or nil when the body was not JSON).
function _M.http(status, headers, doc, body, ctx)
  local code, msg = find(doc, status, 0)
  if not msg and doc == nil then msg = excerpt(body) end
  return _M.new("http", {
    status = status,
    code = code,
    message = msg or ("HTTP " .. tostring(status)),
    request_id = headers and headers["x-request-id"] or nil,
    service = ctx and ctx.service, operation = ctx and ctx.operation,
    retryable = retry.repeatable({ kind = "http", status = status }, ctx and ctx.safe),
    retry_after = retry_after(headers),
    unsafe = unsafe_only({ kind = "http", status = status }, ctx) or nil,
  })
end

-- A transport completion {error=, message=, code=, sent=, too_big=} from
-- either transport.
function _M.transport(c, ctx)
  local kind = c.error == "timeout" and "timeout" or "transport"
  local e = {
    kind = kind, code = c.code, sent = c.sent, too_big = c.too_big or nil,
  }
  return _M.new(kind, {
    message = c.message,
    code = c.code and format("CURLE_%d", c.code) or nil,
    service = ctx and ctx.service, operation = ctx and ctx.operation,
    retryable = retry.repeatable(e, ctx and ctx.safe),
    unsafe = unsafe_only(e, ctx) or nil,
    sent = c.sent,
    too_big = e.too_big,
  })
end

function _M.decode(message, status, headers, ctx)
  return _M.new("decode", {
    status = status, message = message,
    request_id = headers and headers["x-request-id"] or nil,
    service = ctx and ctx.service, operation = ctx and ctx.operation,
    retryable = retry.repeatable({ kind = "decode" }, ctx and ctx.safe),
    unsafe = unsafe_only({ kind = "decode" }, ctx) or nil,
  })
end

_M.Error = Error
return _M
