-- hwcloud.emulator.auth: checks AK/SK signatures (SDK-HMAC-SHA256,
-- SDK-HMAC-SM3, and the derived V11-HMAC-SHA256 of IoTDA's instance hosts)
-- and the IAM tokens this emulator issued.
--
-- The signature check is its own implementation of the algorithm (canonical
-- request from the request as received), independent of the client's signer.

local crypto = require "hwcloud.emulator.crypto"
local state = require "hwcloud.emulator.state"
local util = require "hwcloud.emulator.util"

local ngx = ngx
local type, tonumber, sort, concat = type, tonumber, table.sort, table.concat
local byte, char, find, gsub, gmatch, sub, lower, match, format =
  string.byte, string.char, string.find, string.gsub, string.gmatch, string.sub,
  string.lower, string.match, string.format
local abs, pcall = math.abs, pcall
local sha256_hex, hmac_sha256_hex, ct_equal = crypto.sha256_hex, crypto.hmac_sha256_hex, crypto.equal
local hmac_sha256 = crypto.hmac_sha256

local _M = {}

-- per algorithm: the digest, its HMAC, the header that may stand for the
-- body's hash
local ALGORITHMS = {
  ["SDK-HMAC-SHA256"] = { hash = sha256_hex, hmac = hmac_sha256_hex, content = "x-sdk-content-sha256" },
  ["SDK-HMAC-SM3"] = { hash = crypto.sm3_hex, hmac = crypto.hmac_sm3_hex, content = "x-sdk-content-sm3" },
  ["V11-HMAC-SHA256"] = { hash = sha256_hex, hmac = hmac_sha256_hex, content = "x-sdk-content-sha256",
                          derived = true },
}
local MAX_SKEW = 15 * 60

local function hex_byte(h) return char(tonumber(h, 16)) end
local function enc_byte(c) return format("%%%02X", byte(c)) end

-- Percent-decodes once ('+' stays '+'); a '%' without two hex digits stays.
local function decode(s)
  if not find(s, "%", 1, true) then return s end
  return (gsub(s, "%%(%x%x)", hex_byte))
end

-- Keeps A-Z a-z 0-9 - _ . ~, everything else as %XY (upper-case hex).
local function encode(s)
  return (gsub(s, "[^%w%-_%.~]", enc_byte))
end

_M.decode, _M.encode = decode, encode

function _M.canonical_uri(path)
  if path == "" then return "/" end
  local parts, n = {}, 0
  for seg in gmatch(path .. "/", "([^/]*)/") do
    n = n + 1
    parts[n] = encode(decode(seg))
  end
  local uri = concat(parts, "/", 1, n)
  if sub(uri, -1) ~= "/" then uri = uri .. "/" end
  return uri
end

local function pair_less(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  return a[2] < b[2]
end

function _M.canonical_query(query)
  if query == nil or query == "" then return "" end
  local pairs_, n = {}, 0
  for piece in gmatch(query, "[^&]+") do
    local eq = find(piece, "=", 1, true)
    local k, v
    if eq then
      k, v = sub(piece, 1, eq - 1), sub(piece, eq + 1)
    else
      k, v = piece, ""
    end
    n = n + 1
    pairs_[n] = { decode(k), decode(v) }
  end
  sort(pairs_, pair_less)
  local out = {}
  for i = 1, n do
    out[i] = encode(pairs_[i][1]) .. "=" .. encode(pairs_[i][2])
  end
  return concat(out, "&")
end

-- Linear: "^%s*(.-)%s*$" retries the tail at every inner space, which is
-- quadratic in a value full of them.
local function trim(s)
  return match(s, "^%s*(.*%S)") or ""
end

-- Bounds on SignedHeaders, checked before any other work.
local MAX_SIGNED_HEADERS, MAX_SIGNED_LEN = 64, 2048

-- Parses "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex"
-- (or SDK-HMAC-SM3), or "V11-HMAC-SHA256 Credential=AK/day/region/service,
-- SignedHeaders=..., Signature=...": ak, signed, signature, algorithm and
-- V11's scope (day/region/service).
function _M.parse_authorization(value)
  local alg, rest = match(value, "^(%S+)%s+(.*)$")
  local a = alg and ALGORITHMS[alg]
  if not a then return nil end
  local ak, scope
  if a.derived then
    ak, scope = match(rest, "Credential=([^/,%s]+)/(%d%d%d%d%d%d%d%d/[^/,%s]+/[^/,%s]+)")
  else
    ak = match(rest, "Access=([^,%s]+)")
  end
  local signed = match(rest, "SignedHeaders=([^,%s]+)")
  local sig = match(rest, "Signature=(%x+)")
  if not (ak and signed and sig) then return nil end
  return ak, signed, lower(sig), alg, scope
end

local function header_value(headers, name)
  local v = headers[name]
  if type(v) == "table" then v = concat(v, ",") end
  return v
end

local function fail(msg)
  return nil, 401, "Incorrect IAM authentication information: " .. msg
end

-- The secret key of `ak`: the configured one, or a temporary key of the
-- metadata service, which travels with its own (signed) security token.
-- Returns the secret and the temporary key, or nil, status, message.
local function secret_for(ak, signed, headers)
  local cfg = state.config
  if ct_equal(ak, cfg.ak) then return cfg.sk end
  local temp = state.temp_key(ak)
  if not temp then return fail("the access key " .. ak .. " is unknown") end
  local st = header_value(headers, "x-security-token")
  if not st or not ct_equal(st, temp.security_token) then
    return fail("the temporary access key " .. ak .. " needs the X-Security-Token it came with")
  end
  if not find(";" .. signed .. ";", ";x-security-token;", 1, true) then
    return fail("X-Security-Token must be signed")
  end
  return temp.secret, temp
end

-- The names of SignedHeaders, in order, or nil, status, message.
local function signed_names(signed)
  if #signed > MAX_SIGNED_LEN then return fail("SignedHeaders is too long") end
  local names, seen, has_host, has_date = {}, {}, false, false
  for name in gmatch(signed, "[^;]+") do
    if name ~= lower(name) then return fail("SignedHeaders must be lower case") end
    if seen[name] then return fail("SignedHeaders names '" .. name .. "' twice") end
    seen[name] = true
    if #names >= MAX_SIGNED_HEADERS then return fail("SignedHeaders names too many headers") end
    names[#names + 1] = name
    if name == "host" then has_host = true elseif name == "x-sdk-date" then has_date = true end
  end
  if not has_host or not has_date then
    return fail("SignedHeaders must include host and x-sdk-date")
  end
  return names
end

-- X-Sdk-Date, well formed and within 15 minutes of the server's time, or
-- nil, status, message.
local function sdk_date(headers)
  local date = header_value(headers, "x-sdk-date")
  if not date then return fail("X-Sdk-Date header is missing") end
  local t = util.parse_sdk_date(date)
  if not t then return fail("X-Sdk-Date '" .. date .. "' is not YYYYMMDDTHHMMSSZ") end
  if abs(ngx.time() - t) > MAX_SKEW then
    return fail("X-Sdk-Date " .. date .. " is more than 15 minutes from the server time")
  end
  return date
end

-- The canonical headers, "name:value\n" each, or nil, status, message.
local function canonical_headers(names, headers)
  local lines = {}
  for i = 1, #names do
    local v = header_value(headers, names[i])
    if v == nil then
      return fail("signed header '" .. names[i] .. "' is missing from the request")
    end
    lines[i] = names[i] .. ":" .. trim(v) .. "\n"
  end
  return concat(lines)
end

-- The payload hash: X-Sdk-Content-Sha256 (-Sm3 under SM3) when given,
-- else the body's.
local function payload_hash(a, headers, body)
  local payload = header_value(headers, a.content)
  if payload then return payload end
  return a.hash(body or "")
end

-- V11's key: HKDF-SHA256 (RFC 5869), the AK the salt, the SK the input,
-- the scope the info, one block; used as its hex form
local function derived_key(ak, sk, scope)
  local prk = hmac_sha256(ak, sk)
  return crypto.to_hex(hmac_sha256(prk, scope .. "\1"))
end

-- Verifies the AK/SK signature of the current request. `path` and `query` are
-- the raw request-target parts, `body` the exact body bytes.
-- Returns the access key, or nil, status, message.
function _M.verify_signature(method, path, query, headers, body, authorization)
  local ak, signed, sig, alg, scope = _M.parse_authorization(authorization)
  if not ak then
    return fail("Authorization is not a valid SDK-HMAC-SHA256, SDK-HMAC-SM3 or V11-HMAC-SHA256 header")
  end
  local a = ALGORITHMS[alg]
  local sk, temp, msg = secret_for(ak, signed, headers)
  if not sk then return nil, temp, msg end
  local names, status
  names, status, msg = signed_names(signed)
  if not names then return nil, status, msg end
  local date
  date, status, msg = sdk_date(headers)
  if not date then return nil, status, msg end
  local lines
  lines, status, msg = canonical_headers(names, headers)
  if not lines then return nil, status, msg end

  if scope and sub(scope, 1, 8) ~= sub(date, 1, 8) then
    return fail("the Credential's day is not the day of X-Sdk-Date")
  end
  local ok, hashed = pcall(payload_hash, a, headers, body)
  if not ok then return fail(alg .. " is not available here") end

  local canonical = method .. "\n" .. _M.canonical_uri(path) .. "\n"
    .. _M.canonical_query(query) .. "\n" .. lines .. "\n"
    .. signed .. "\n" .. hashed
  local to_sign = alg .. "\n" .. date .. "\n" .. (scope and scope .. "\n" or "") .. a.hash(canonical)
  local expected = a.hmac(scope and derived_key(ak, sk, scope) or sk, to_sign)
  if not ct_equal(expected, sig) then
    return fail("verify aksk signature fail")
  end
  if temp and temp.expires <= ngx.now() then
    return fail("the security token has expired and must be updated")
  end
  return ak
end

-- The token's record, or nil, status, message for one the emulator did not
-- issue or that has expired.
local function token_info(token)
  local info = state.token(token)
  if not info then
    return nil, 401, "Incorrect IAM authentication information: decrypt token fail"
  end
  if info.expires <= ngx.now() then
    return nil, 401, "Incorrect IAM authentication information: the token has expired"
  end
  return info
end

-- A request without a token must carry a good AK/SK signature: true, or
-- nil, status, message.
local function signed(method, path, query, headers, body)
  local authorization = header_value(headers, "authorization")
  if not authorization then
    return nil, 401, "Incorrect IAM authentication information: the request has neither "
      .. "an AK/SK signature (Authorization) nor an X-Auth-Token"
  end
  return _M.verify_signature(method, path, query, headers, body, authorization)
end

-- Checks the credentials of a service request. `path_project` is the
-- {project_id} of the path, when the operation has one.
-- Returns the project id the request acts for, or nil, status, message.
function _M.check(method, path, query, headers, body, path_project)
  local token = header_value(headers, "x-auth-token")
  if token then
    local info, status, msg = token_info(token)
    if not info then return nil, status, msg end
    if path_project and path_project ~= info.project_id then
      return nil, 403, "The token is scoped to project " .. info.project_id
        .. ", not to project " .. path_project .. " of the request path"
    end
    return info.project_id
  end

  local ok, status, msg = signed(method, path, query, headers, body)
  if not ok then return nil, status, msg end

  local project = header_value(headers, "x-project-id")
  if not project or project == "" then
    return nil, 401, "Incorrect IAM authentication information: X-Project-Id header is "
      .. "required with AK/SK authentication"
  end
  if path_project and path_project ~= project then
    return nil, 403, "X-Project-Id " .. project .. " does not match project "
      .. path_project .. " of the request path"
  end
  return project
end

-- Checks the credentials of a request to a global service (IAM's
-- look-ups): an IAM token, or a signature without X-Project-Id; an
-- X-Domain-Id, when sent, must be the account's.
function _M.check_global(method, path, query, headers, body, domain_id)
  local token = header_value(headers, "x-auth-token")
  if token then
    local info, status, msg = token_info(token)
    if not info then return nil, status, msg end
    return true
  end
  local ok, status, msg = signed(method, path, query, headers, body)
  if not ok then return nil, status, msg end
  local domain = header_value(headers, "x-domain-id")
  if domain and domain ~= domain_id then
    return nil, 403, "X-Domain-Id " .. domain .. " is not the domain of these credentials"
  end
  return true
end

_M.header_value = header_value
return _M
