-- hwcloud.retry: the one retry policy of hwcloud. Given an error, whether
-- the request is safe to repeat, the tries made and the configuration, it
-- answers the delay before the next try, or nil to stop. call.lua, both
-- transports and jobs.lua ask it; nothing else decides.
--
-- The rule is "nothing unsafe is sent twice":
--   * a request that provably never left (connect, DNS, TLS handshake,
--     proxy: the completion says sent = false) may always go again;
--   * 429 may always go again: the gateway throttled it before any backend;
--   * everything else that may have reached a backend (503, 502, 504,
--     timeouts, dropped or cut answers, bodies that are not JSON) goes
--     again only when repeating is safe: GET/HEAD, an operation marked
--     idempotent, or retry_unsafe. A 503 may come from a backend that had
--     already acted, so it is no exception;
--   * what the same request would meet again never goes again: 401/403
--     (the gateway locks an AK after repeated signature failures), other
--     4xx, 500, a response over max_response, an untrusted certificate.
-- This module requires nothing, so errors.lua can use it.

local type, tonumber, random = type, tonumber, math.random

local _M = {}

-- Most tries a caller may ask for (the client option has the same bound).
_M.MAX_RETRIES = 10
-- The longest wait between tries when retry_max_delay is not given.
_M.MAX_DELAY = 20

-- Statuses worth another try whatever the method, and only when safe.
local STATUS_ANY = { [429] = true }
local STATUS_SAFE = { [502] = true, [503] = true, [504] = true }

-- libcurl results the same request would meet again (the response was
-- over max_response, the certificate cannot be trusted).
local HOPELESS = {
  [23] = true,   -- CURLE_WRITE_ERROR (over max_response)
  [58] = true,   -- CURLE_SSL_CERTPROBLEM
  [60] = true,   -- CURLE_PEER_FAILED_VERIFICATION
  [77] = true,   -- CURLE_SSL_CACERT_BADFILE
  [83] = true,   -- CURLE_SSL_ISSUER_ERROR
  [90] = true,   -- CURLE_SSL_PINNEDPUBKEYNOTMATCH
  [91] = true,   -- CURLE_SSL_INVALIDCERTSTATUS
}

-- libcurl results of a URL that leads nowhere: the host (or the proxy's)
-- does not resolve, or the URL is malformed.
local NOWHERE = {
  [3] = true,    -- CURLE_URL_MALFORMAT
  [5] = true,    -- CURLE_COULDNT_RESOLVE_PROXY
  [6] = true,    -- CURLE_COULDNT_RESOLVE_HOST
}

-- misconfigured(e) -> boolean: whether the transport error `e` is the
-- configuration's (a region the service has no host in, a mistyped
-- endpoint or proxy), which the same request meets again: nginx's
-- resolver says "could not be resolved" or "no resolver defined".
function _M.misconfigured(e)
  if type(e) ~= "table" or (e.kind or e.error) ~= "transport" then return false end
  local code = e.code
  if type(code) == "string" then code = tonumber(code:match("^CURLE_(%d+)$")) end
  if code then return NOWHERE[code] or false end
  local m = type(e.message) == "string" and e.message or ""
  return (m:find("could not be resolved", 1, true) or m:find("no resolver defined", 1, true)) ~= nil
end

-- repeatable(e, safe) -> boolean: whether the error `e` (an hwcloud error
-- or a transport completion: kind/error, status, code, sent, too_big)
-- allows another try of a request that is (or is not) safe to repeat.
function _M.repeatable(e, safe)
  if type(e) ~= "table" then return false end
  safe = safe and true or false
  local kind = e.kind or e.error
  if kind == "http" then
    local s = e.status
    return STATUS_ANY[s] or (safe and STATUS_SAFE[s]) or false
  end
  if kind == "transport" or kind == "timeout" then
    if e.too_big then return false end
    local code = e.code
    if type(code) == "string" then code = tonumber(code:match("^CURLE_(%d+)$")) end
    if code and HOPELESS[code] then return false end
    if e.sent == false then return true end
    return safe
  end
  if kind == "decode" then return safe end
  return false
end

-- Equal jitter: half the exponential step, plus a random part of the other
-- half, so many clients retrying at once spread out.
function _M.backoff(base, cap, attempt)
  local d = base * 2 ^ (attempt - 1)
  if d > cap then d = cap end
  return d / 2 + random() * d / 2
end

-- decide(err, safe, attempt, cfg) -> delay (seconds) | nil to stop.
-- attempt: tries made so far (1 after the first). cfg: retries,
-- retry_base, retry_max_delay. err.retry_after (seconds, from the
-- server's Retry-After) is a minimum; one longer than retry_max_delay
-- stops at once.
function _M.decide(err, safe, attempt, cfg)
  if not _M.repeatable(err, safe) then return nil end
  local retries = cfg.retries or 0
  if retries > _M.MAX_RETRIES then retries = _M.MAX_RETRIES end
  if attempt > retries then return nil end
  local cap = cfg.retry_max_delay or _M.MAX_DELAY
  local delay = _M.backoff(cfg.retry_base or 0.2, cap, attempt)
  local ra = err.retry_after
  if ra then
    if ra > cap then return nil end -- the server asks for longer than we wait
    if ra > delay then delay = ra end
  end
  return delay
end

-- once(safe) -> whether the transport must refuse to send the request a
-- second time on its own (libcurl and the ngx transport both resend on a
-- fresh connection when a kept-alive one dies before any answer).
function _M.once(safe)
  return not safe
end

-- resend_fresh(opts, left) -> whether a transport may itself send again, on
-- a fresh connection, a request whose kept-alive connection was found dead.
-- left = false: the request did not get out whole (the send failed), so no
-- server can have acted on it; left = true: it went out and no byte came
-- back, which only a request that may go twice survives.
function _M.resend_fresh(opts, left)
  if not left then return true end
  return not (opts and opts.once)
end

return _M
