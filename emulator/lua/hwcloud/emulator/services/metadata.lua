-- The ECS metadata service, as an instance with an agency sees it:
--   PUT /meta-data/latest/api/token      (X-Metadata-Token-Ttl-Seconds) ->
--                                         a session token, as text
--   GET /openstack/latest/securitykey    (X-Metadata-Token) ->
--     {"credential":{"access","secret","securitytoken","expires_at"}}
-- The keys it hands out are temporary: the emulator's services accept them
-- with their X-Security-Token until they expire. Tests steer it through
-- POST /_emulator/identity (key life, no session tokens, no agency).

local util = require "hwcloud.emulator.util"
local state = require "hwcloud.emulator.state"
local crypto = require "hwcloud.emulator.crypto"

local tonumber, type, upper = tonumber, type, string.upper

local _M = { name = "metadata" }

local MAX_TTL = 21600

local function answer(status, message)
  return status, { error_code = "METADATA." .. status, error_msg = message }
end

local function header(ctx, name)
  local v = ctx.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end

local function issue_session(ctx)
  local id = state.identity()
  if not id.metadata_tokens then return answer(404, "Not Found") end
  local ttl = tonumber(header(ctx, "x-metadata-token-ttl-seconds"))
  if not ttl or ttl < 1 or ttl > MAX_TTL or ttl % 1 ~= 0 then
    return answer(400, "X-Metadata-Token-Ttl-Seconds must be an integer from 1 to " .. MAX_TTL)
  end
  local token = "mdt-" .. crypto.random_hex(24)
  id.sessions = id.sessions or {}
  id.sessions[token] = ctx.now + ttl
  return 200, token, { ["Content-Type"] = "text/plain" }
end

local function security_key(ctx)
  local id = state.identity()
  if id.metadata_tokens then
    local token = header(ctx, "x-metadata-token")
    local until_ = token and id.sessions and id.sessions[token]
    if not until_ or until_ <= ctx.now then
      return answer(401, "X-Metadata-Token is missing, unknown or expired")
    end
  end
  if not id.agency then
    return answer(401, "Please configure Cloud Service Agency first")
  end
  local ak = upper("HWTMP" .. crypto.random_hex(8))
  local sk = crypto.random_hex(20)
  local sts = "sts-" .. crypto.random_hex(64)
  local expires = ctx.now + id.key_seconds
  state.add_temp_key(ak, { secret = sk, security_token = sts, expires = expires })
  return 200, { credential = { access = ak, secret = sk, securitytoken = sts,
                               expires_at = util.iso8601(expires) } }
end

_M.routes = {
  { op = "get_token", method = "PUT", path = "/meta-data/latest/api/token", auth = "none",
    handler = issue_session },
  { op = "get_security_key", method = "GET", path = "/openstack/latest/securitykey",
    auth = "none", handler = security_key },
}

return _M
