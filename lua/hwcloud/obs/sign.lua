-- hwcloud.obs.sign: the three signatures OBS accepts, over the C core's
-- digests (core.hmac, core.digest, core.base64).
--
--   "obs": Authorization: OBS AK:base64(HMAC-SHA1(SK, StringToSign)), x-obs- headers
--   "v2":  the same with AWS and x-amz- (AWS signature version 2)
--   "v4":  AWS SigV4, service "s3", region the OBS region
--
-- A request here is { method, bucket?, key?, query = {name = value|true},
-- headers = {Name = value}, host, region }; signing adds headers to it.
-- Secrets go in and only signatures come out.

local pairs, ipairs, tostring, floor = pairs, ipairs, tostring, math.floor
local concat, sort = table.concat, table.sort
local byte, format, gsub, lower, sub = string.byte, string.format, string.gsub, string.lower, string.sub
local core = require "hwcloud.core"

local _M = {}

local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec" }

-- RFC 1123 date of a Unix time, whatever the C locale says
function _M.http_date(t)
  local d = os.date("!*t", t)
  return format("%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[d.wday], d.day, MONTHS[d.month],
    d.year, d.hour, d.min, d.sec)
end

-- ISO 8601 basic (SigV4's x-amz-date)
function _M.amz_date(t)
  return os.date("!%Y%m%dT%H%M%SZ", t)
end

local function hex(s)
  return (gsub(s, ".", function(c) return format("%02x", byte(c)) end))
end
_M.hex = hex

-- percent-encoding of RFC 3986 unreserved characters kept; `keep_slash`
-- for object keys in paths
local function encode(s, keep_slash)
  return (gsub(tostring(s), "[^%w%-%._~/]", function(c)
    return format("%%%02X", byte(c))
  end):gsub("/", keep_slash and "/" or "%%2F"))
end
_M.encode = encode

-- Sub-resources that take part in the V2/OBS canonical resource (the
-- official OBS SDKs' list, compared in lower case).
local SUBRESOURCES = {}
for name in ([[acl backtosource metadata policy torrent logging location storageinfo quota
  storageclass storagepolicy requestpayment versions versioning versionid uploads uploadid
  partnumber website notification lifecycle deletebucket delete cors restore encryption tagging
  append modify position replication response-content-type response-content-language
  response-expires response-cache-control response-content-disposition response-content-encoding
  x-image-process x-oss-process x-image-save-bucket x-image-save-object ignore-sign-in-query]]):gmatch("%S+") do
  SUBRESOURCES[name] = true
end

local function trim(s)
  return (gsub(gsub(s, "^%s+", ""), "%s+$", ""))
end

-- the canonical resource: /bucket/key?sub-resources (values as given)
local function canonical_resource(r, prefix)
  local res = "/"
  if r.bucket then
    res = "/" .. r.bucket .. "/"
    if r.key then res = res .. encode(r.key, true) end
  end
  local names = {}
  for k in pairs(r.query or {}) do
    local lk = lower(k)
    if SUBRESOURCES[lk] or sub(lk, 1, #prefix) == prefix then names[#names + 1] = k end
  end
  if #names == 0 then return res end
  sort(names)
  local parts = {}
  for i, k in ipairs(names) do
    local v = r.query[k]
    parts[i] = (v == true or v == "") and k or (k .. "=" .. tostring(v))
  end
  return res .. "?" .. concat(parts, "&")
end

-- string_to_sign(mode, r, date) for "obs" and "v2"; `date` replaces the
-- Date header (a signed URL's Expires)
function _M.string_to_sign(mode, r, date)
  local prefix = mode == "obs" and "x-obs-" or "x-amz-"
  local h = {}
  for k, v in pairs(r.headers or {}) do
    local lk = lower(k)
    if h[lk] then h[lk] = h[lk] .. "," .. tostring(v) else h[lk] = tostring(v) end
  end
  local own = {}
  for k in pairs(h) do
    if sub(k, 1, #prefix) == prefix and k ~= prefix .. "date" then own[#own + 1] = k end
  end
  sort(own)
  local lines = { r.method, h["content-md5"] or "", h["content-type"] or "" }
  if date then
    lines[4] = date
  elseif h[prefix .. "date"] then
    -- the x- date stands in for Date, which is then signed empty
    lines[4] = ""
    own[#own + 1] = prefix .. "date"
    sort(own)
  else
    lines[4] = h.date or ""
  end
  local canon = {}
  for i, k in ipairs(own) do
    local v = h[k]
    if sub(k, 1, #prefix + 5) == prefix .. "meta-" then v = trim(v) end
    canon[i] = k .. ":" .. v .. "\n"
  end
  return concat(lines, "\n") .. "\n" .. concat(canon) .. canonical_resource(r, prefix)
end

local function b64_sha1(sk, s)
  return core.base64(core.hmac("sha1", sk, s))
end

-- v2(mode, r, ak, sk, now): Date, the token header and Authorization
local function sign_v2(mode, r, keys, now)
  local h = r.headers
  local prefix = mode == "obs" and "x-obs-" or "x-amz-"
  if keys.security_token then h[prefix .. "security-token"] = keys.security_token end
  h.Date = h.Date or _M.http_date(now)
  local sts = _M.string_to_sign(mode, r)
  h.Authorization = (mode == "obs" and "OBS " or "AWS ") .. keys.ak .. ":" .. b64_sha1(keys.sk, sts)
  return r
end

------------------------------------------------------------------ SigV4

local EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_M.EMPTY_SHA256 = EMPTY_SHA256

local function canonical_query(q)
  local pairs_ = {}
  for k, v in pairs(q or {}) do
    pairs_[#pairs_ + 1] = { encode(k), (v == true) and "" or encode(v) }
  end
  sort(pairs_, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local out = {}
  for i, p in ipairs(pairs_) do out[i] = p[1] .. "=" .. p[2] end
  return concat(out, "&")
end

-- the canonical URI: the path as sent (each key byte encoded once)
local function v4_path(r)
  return r.path or "/"
end

local function signing_key(sk, day, region)
  local k = core.hmac("sha256", "AWS4" .. sk, day)
  k = core.hmac("sha256", k, region)
  k = core.hmac("sha256", k, "s3")
  return core.hmac("sha256", k, "aws4_request")
end

-- v4_canonical(r, signed_names, payload) -> canonical request, signed list
function _M.v4_canonical(r, payload)
  local h = {}
  for k, v in pairs(r.headers) do
    local lk = lower(k)
    local val = trim(gsub(tostring(v), "%s+", " "))
    h[lk] = h[lk] and (h[lk] .. "," .. val) or val
  end
  local names = {}
  for k in pairs(h) do if k ~= "authorization" then names[#names + 1] = k end end
  sort(names)
  local lines = {}
  for i, k in ipairs(names) do lines[i] = k .. ":" .. h[k] .. "\n" end
  local signed = concat(names, ";")
  return concat({ r.method, v4_path(r), canonical_query(r.query), concat(lines), signed,
                  payload }, "\n"), signed
end

function _M.v4_string_to_sign(amzdate, scope, canonical)
  return "AWS4-HMAC-SHA256\n" .. amzdate .. "\n" .. scope .. "\n"
    .. hex(core.digest("sha256", canonical))
end

local function sign_v4(r, keys, now)
  local h = r.headers
  local amzdate = h["x-amz-date"] or _M.amz_date(now)
  h["x-amz-date"] = amzdate
  h.Host = h.Host or r.host
  local payload = h["x-amz-content-sha256"] or "UNSIGNED-PAYLOAD"
  h["x-amz-content-sha256"] = payload
  if keys.security_token then h["x-amz-security-token"] = keys.security_token end
  local day = sub(amzdate, 1, 8)
  local scope = day .. "/" .. r.region .. "/s3/aws4_request"
  local canonical, signed = _M.v4_canonical(r, payload)
  local sig = hex(core.hmac("sha256", signing_key(keys.sk, day, r.region),
    _M.v4_string_to_sign(amzdate, scope, canonical)))
  h.Authorization = "AWS4-HMAC-SHA256 Credential=" .. keys.ak .. "/" .. scope
    .. ",SignedHeaders=" .. signed .. ",Signature=" .. sig
  return r
end

-- sign(mode, r, keys, now) -> r with its authenticating headers.
-- keys = {ak, sk, security_token?}; now: Unix seconds.
function _M.sign(mode, r, keys, now)
  if mode == "v4" then return sign_v4(r, keys, now) end
  return sign_v2(mode, r, keys, now)
end

-- presign(mode, r, keys, now, expires) -> the query parameters that
-- authenticate a URL for `expires` seconds (added to r.query)
function _M.presign(mode, r, keys, now, expires)
  local q = r.query
  if mode == "v4" then
    local amzdate = _M.amz_date(now)
    local day = sub(amzdate, 1, 8)
    local scope = day .. "/" .. r.region .. "/s3/aws4_request"
    q["X-Amz-Algorithm"] = "AWS4-HMAC-SHA256"
    q["X-Amz-Credential"] = keys.ak .. "/" .. scope
    q["X-Amz-Date"] = amzdate
    q["X-Amz-Expires"] = tostring(floor(expires))
    q["X-Amz-SignedHeaders"] = "host"
    if keys.security_token then q["X-Amz-Security-Token"] = keys.security_token end
    local canonical = _M.v4_canonical({ method = r.method, path = r.path, query = q,
                                        headers = { host = r.host } }, "UNSIGNED-PAYLOAD")
    q["X-Amz-Signature"] = hex(core.hmac("sha256", signing_key(keys.sk, day, r.region),
      _M.v4_string_to_sign(amzdate, scope, canonical)))
    return q
  end
  local prefix = mode == "obs" and "x-obs-" or "x-amz-"
  if keys.security_token then q[prefix .. "security-token"] = keys.security_token end
  local at = tostring(floor(now + expires))
  local sts = _M.string_to_sign(mode, { method = r.method, bucket = r.bucket, key = r.key,
                                         query = q, headers = r.headers or {} }, at)
  q[mode == "obs" and "AccessKeyId" or "AWSAccessKeyId"] = keys.ak
  q.Expires = at
  q.Signature = b64_sha1(keys.sk, sts)
  return q
end

_M.canonical_query = canonical_query
return _M
