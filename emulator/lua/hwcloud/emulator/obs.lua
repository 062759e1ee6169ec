-- hwcloud.emulator.obs: object storage (OBS) as the cloud answers it: the
-- S3-shaped XML API for buckets, objects, listings (marker paging) and
-- multipart uploads, behind its three signatures (OBS and AWS V2 with
-- HMAC-SHA1, AWS SigV4 for "s3"), in headers or in signed URLs.
--
-- Object bytes live in memory when small, else in files under the
-- emulator's folder (HWCLOUD_EMULATOR_OBS_DIR); a large upload is read
-- from nginx's spooled body and an object sent in chunks, so no transfer
-- holds a whole large file. Written apart from the client's signer, so
-- each checks the other.

local crypto = require "hwcloud.emulator.crypto"
local state = require "hwcloud.emulator.state"

local ngx = ngx
local type, tostring, tonumber, pairs, ipairs, next = type, tostring, tonumber, pairs, ipairs, next
local concat, sort = table.concat, table.sort
local byte, char, find, format, gsub, gmatch, lower, match, sub =
  string.byte, string.char, string.find, string.format, string.gsub, string.gmatch,
  string.lower, string.match, string.sub
local abs, floor, min = math.abs, math.floor, math.min
local io_open = io.open

local _M = {}

local MEMORY_MAX = 1024 * 1024 -- larger objects go to a file
local CHUNK = 256 * 1024
local MAX_SKEW = 15 * 60

local buckets, uploads, serial, part_sends

function _M.reset()
  -- files of the last run are left to the folder's owner (removed with it)
  buckets = {}    -- name -> { created, objects = { key -> object } }
  uploads = {}    -- upload id -> { bucket, key, parts = { n -> object }, meta, ctype }
  part_sends = {} -- "<upload id>#<n>" -> times the part was received
  serial = serial or 0
end
_M.reset()

local function folder()
  local d = os.getenv("HWCLOUD_EMULATOR_OBS_DIR")
  if d and d ~= "" then return d end
  return ngx.config.prefix() .. "obs"
end

local function new_path()
  serial = serial + 1
  return folder() .. "/object-" .. ngx.worker.pid() .. "-" .. serial
end

------------------------------------------------------------ answers

local function xml_escape(s)
  return (gsub(tostring(s), "[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                         ['"'] = "&quot;", ["'"] = "&apos;" }))
end

local function reply(status, body, headers)
  ngx.status = status
  local h = ngx.header
  h["Content-Type"] = body and "application/xml" or nil
  for k, v in pairs(headers or {}) do h[k] = v end
  if body then
    h["Content-Length"] = #body
    ngx.print(body)
  elseif status ~= 204 then
    h["Content-Length"] = 0
  end
  return ngx.exit(ngx.OK) or true
end

local function fail(status, code, message)
  local rid = ngx.header["x-obs-request-id"]
  local body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' .. code .. "</Code><Message>"
    .. xml_escape(message) .. "</Message><RequestId>" .. tostring(rid) .. "</RequestId>"
    .. "<HostId>hwcloud-emulator</HostId></Error>"
  if ngx.req.get_method() == "HEAD" then
    ngx.header["x-obs-error-code"] = code
    ngx.header["Content-Type"] = nil
    ngx.status = status
    return ngx.exit(ngx.OK) or true
  end
  ngx.status = status
  ngx.header["Content-Type"] = "application/xml"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.OK) or true
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S.000Z", floor(t))
end

------------------------------------------------------------ signatures

local function unescape(s)
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

local function escape(s, keep_slash)
  local out = gsub(s, "[^A-Za-z0-9%-_%.~/]", function(c) return format("%%%02X", byte(c)) end)
  if not keep_slash then out = gsub(out, "/", "%%2F") end
  return out
end

local function header(headers, name)
  local v = headers[name]
  if type(v) == "table" then return concat(v, ",") end
  return v
end

local function trim(s) return (gsub(gsub(s, "^%s+", ""), "%s+$", "")) end

-- the secret of `ak` and the token its requests must carry (temporary keys)
local function secret_of(ak)
  local cfg = state.config
  if crypto.equal(ak, cfg.ak) then return cfg.sk end
  local temp = state.temp_key(ak)
  if temp then return temp.secret, temp.security_token end
  return nil
end

-- sub-resources of the V2 canonical resource, in lower case
local SUB = {}
for n in gmatch([[acl backtosource metadata policy torrent logging location storageinfo quota
  storageclass storagepolicy requestpayment versions versioning versionid uploads uploadid
  partnumber website notification lifecycle deletebucket delete cors restore encryption tagging
  append modify position replication response-content-type response-content-language
  response-expires response-cache-control response-content-disposition response-content-encoding
  x-image-process x-oss-process x-image-save-bucket x-image-save-object ignore-sign-in-query]],
  "%S+") do SUB[n] = true end

-- the query as decoded pairs, in the order sent
local function query_pairs(query)
  local out = {}
  for part in gmatch(query or "", "[^&]+") do
    local k, v = match(part, "^([^=]*)=(.*)$")
    if k then out[#out + 1] = { unescape(k), unescape(v) }
    else out[#out + 1] = { unescape(part), nil } end
  end
  return out
end

-- the canonical resource: /bucket/key and the sub-resources, sorted
local function v2_resource(req, prefix)
  local resource = "/"
  if req.bucket then
    resource = "/" .. req.bucket .. "/" .. (req.key and escape(req.key, true) or "")
  end
  local subs = {}
  for _, p in ipairs(query_pairs(req.query)) do
    local lk = lower(p[1])
    if SUB[lk] or (sub(lk, 1, #prefix) == prefix) then subs[#subs + 1] = p end
  end
  sort(subs, function(a, b) return a[1] < b[1] end)
  local q = {}
  for i, p in ipairs(subs) do q[i] = (p[2] and p[2] ~= "") and (p[1] .. "=" .. p[2]) or p[1] end
  if #q > 0 then resource = resource .. "?" .. concat(q, "&") end
  return resource
end

local function v2_canonical(kind, req, date_value)
  local prefix = kind == "OBS" and "x-obs-" or "x-amz-"
  local h = req.headers
  local names = {}
  for k in pairs(h) do
    local lk = lower(k)
    if sub(lk, 1, #prefix) == prefix then names[#names + 1] = lk end
  end
  sort(names)
  local date = date_value or header(h, "date") or ""
  if not date_value and h[prefix .. "date"] then date = "" end
  local lines = { req.method, header(h, "content-md5") or "", header(h, "content-type") or "", date }
  local xh = {}
  for _, n in ipairs(names) do
    local v = header(h, n)
    if sub(n, 1, #prefix + 5) == prefix .. "meta-" then v = trim(v) end
    xh[#xh + 1] = n .. ":" .. v .. "\n"
  end
  return concat(lines, "\n") .. "\n" .. concat(xh) .. v2_resource(req, prefix)
end

local function hmac256(key, msg) return crypto.hmac_sha256(key, msg) end

local function v4_canonical(req, signed, payload, skip_param)
  -- each segment decoded once and encoded again (S3's canonical URI)
  local parts = {}
  local path = req.path
  local i = 1
  while true do
    local j = find(path, "/", i, true)
    if not j then parts[#parts + 1] = escape(unescape(sub(path, i)), false) break end
    parts[#parts + 1] = escape(unescape(sub(path, i, j - 1)), false)
    i = j + 1
  end
  local uri = concat(parts, "/")
  local qp = {}
  for _, p in ipairs(query_pairs(req.query)) do
    if p[1] ~= skip_param then qp[#qp + 1] = { escape(p[1]), escape(p[2] or "") } end
  end
  sort(qp, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local q = {}
  for k, p in ipairs(qp) do q[k] = p[1] .. "=" .. p[2] end
  local hl = {}
  for name in gmatch(signed, "[^;]+") do
    local v = header(req.headers, name) or ""
    hl[#hl + 1] = name .. ":" .. trim(gsub(v, "%s+", " ")) .. "\n"
  end
  return concat({ req.method, uri, concat(q, "&"), concat(hl), signed, payload }, "\n")
end

local function v4_signature(sk, day, region, amzdate, scope, canonical)
  local k = hmac256(hmac256(hmac256(hmac256("AWS4" .. sk, day), region), "s3"), "aws4_request")
  local sts = "AWS4-HMAC-SHA256\n" .. amzdate .. "\n" .. scope .. "\n" .. crypto.sha256_hex(canonical)
  return crypto.to_hex(hmac256(k, sts))
end

local function denied(code, msg) return nil, 403, code, msg end
local MISMATCH = "The request signature we calculated does not match the signature you provided"
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- an x-amz-date (YYYYMMDDTHHMMSSZ) as Unix seconds, or nil
local function amz_time(s)
  local y, mo, d, hh, mi, ss = match(s or "", "^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y or not MONTHS[tonumber(mo)] then return nil end
  return ngx.parse_http_time(format("Mon, %s %s %s %s:%s:%s GMT", d, MONTHS[tonumber(mo)], y, hh,
    mi, ss))
end

-- "OBS AK:sig" / "AWS AK:sig"
local function check_v2_header(req, kind, ak, sig)
  local h = req.headers
  local sk, token = secret_of(ak)
  if not sk then return denied("InvalidAccessKeyId", "The access key does not exist") end
  local prefix = kind == "OBS" and "x-obs-" or "x-amz-"
  if token and not crypto.equal(header(h, prefix .. "security-token") or "", token) then
    return denied("InvalidToken", "The security token is missing or does not match")
  end
  local when = ngx.parse_http_time(header(h, prefix .. "date") or header(h, "date") or "")
  if not when or abs(when - ngx.time()) > MAX_SKEW then
    return denied("RequestTimeTooSkewed", "The difference between the request time and the "
      .. "server's time is too large")
  end
  local want = ngx.encode_base64(crypto.hmac_sha1(sk, v2_canonical(kind, req)))
  if not crypto.equal(want, sig) then return denied("SignatureDoesNotMatch", MISMATCH) end
  return kind
end

-- "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
local function check_v4_header(req, auth)
  local h = req.headers
  local cred, signed, sig = match(auth,
    "^AWS4%-HMAC%-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=(%x+)$")
  if not cred then return denied("AccessDenied", "Unrecognised Authorization header") end
  local ak, day, region = match(cred, "^([^/]+)/(%d+)/([^/]+)/s3/aws4_request$")
  if not ak then return denied("AuthorizationHeaderMalformed", "Bad credential scope") end
  local sk, token = secret_of(ak)
  if not sk then return denied("InvalidAccessKeyId", "The access key does not exist") end
  local names = ";" .. signed .. ";"
  if not find(names, ";host;", 1, true) then return denied("AccessDenied", "host must be signed") end
  if token and (not crypto.equal(header(h, "x-amz-security-token") or "", token)
      or not find(names, ";x-amz-security-token;", 1, true)) then
    return denied("InvalidToken", "The security token is missing, unsigned or does not match")
  end
  local amzdate = header(h, "x-amz-date") or ""
  local when = amz_time(amzdate)
  if not when or sub(amzdate, 1, 8) ~= day or abs(when - ngx.time()) > MAX_SKEW then
    return denied("RequestTimeTooSkewed", "x-amz-date is missing, disagrees with the scope or "
      .. "is too far from the server's time")
  end
  local payload = header(h, "x-amz-content-sha256")
  if not payload then return denied("AccessDenied", "x-amz-content-sha256 is required") end
  local scope = day .. "/" .. region .. "/s3/aws4_request"
  local want = v4_signature(sk, day, region, amzdate, scope, v4_canonical(req, signed, payload))
  if not crypto.equal(want, sig) then return denied("SignatureDoesNotMatch", MISMATCH) end
  return "AWS4"
end

-- ?AccessKeyId=&Expires=&Signature= (AWSAccessKeyId in V2 form)
local function check_v2_url(req)
  local args = req.args
  local kind = args.AccessKeyId and "OBS" or "AWS"
  local sk, token = secret_of(tostring(args.AccessKeyId or args.AWSAccessKeyId))
  if not sk then return denied("InvalidAccessKeyId", "The access key does not exist") end
  local expires = tonumber(args.Expires)
  if not expires or expires < ngx.time() then return denied("AccessDenied", "Request has expired") end
  local prefix = kind == "OBS" and "x-obs-" or "x-amz-"
  if token and not crypto.equal(tostring(args[prefix .. "security-token"] or ""), token) then
    return denied("InvalidToken", "The security token is missing or does not match")
  end
  local want = ngx.encode_base64(crypto.hmac_sha1(sk, v2_canonical(kind, req, tostring(args.Expires))))
  if not crypto.equal(want, tostring(args.Signature)) then
    return denied("SignatureDoesNotMatch", MISMATCH)
  end
  return kind
end

-- ?X-Amz-Algorithm=...&X-Amz-Signature= (SigV4 query form)
local function check_v4_url(req)
  local args = req.args
  local ak, day, region = match(tostring(args["X-Amz-Credential"] or ""),
    "^([^/]+)/(%d+)/([^/]+)/s3/aws4_request$")
  if not ak then return denied("AccessDenied", "Bad X-Amz-Credential") end
  local sk, token = secret_of(ak)
  if not sk then return denied("InvalidAccessKeyId", "The access key does not exist") end
  if token and not crypto.equal(tostring(args["X-Amz-Security-Token"] or ""), token) then
    return denied("InvalidToken", "The security token is missing or does not match")
  end
  local amzdate = tostring(args["X-Amz-Date"] or "")
  local start = amz_time(amzdate)
  if not start or start + (tonumber(args["X-Amz-Expires"]) or 0) < ngx.time() then
    return denied("AccessDenied", "Request has expired")
  end
  local signed = tostring(args["X-Amz-SignedHeaders"] or "")
  local scope = day .. "/" .. region .. "/s3/aws4_request"
  local want = v4_signature(sk, day, region, amzdate, scope,
    v4_canonical(req, signed, "UNSIGNED-PAYLOAD", "X-Amz-Signature"))
  if not crypto.equal(want, tostring(args["X-Amz-Signature"])) then
    return denied("SignatureDoesNotMatch", MISMATCH)
  end
  return "AWS4"
end

-- check(req) -> kind ("OBS", "AWS", "AWS4") | nil, status, code, message
local function check(req)
  local auth = header(req.headers, "authorization")
  local args = req.args
  if auth then
    local kind, ak, sig = match(auth, "^(OBS) ([^:]+):(.+)$")
    if not kind then kind, ak, sig = match(auth, "^(AWS) ([^:]+):(.+)$") end
    if kind then return check_v2_header(req, kind, ak, sig) end
    return check_v4_header(req, auth)
  end
  if args.Signature and (args.AccessKeyId or args.AWSAccessKeyId) then return check_v2_url(req) end
  if args["X-Amz-Signature"] then return check_v4_url(req) end
  return denied("AccessDenied", "Anonymous access is forbidden")
end
_M.check = check

------------------------------------------------------------ bodies

-- the request body stored: { data } or { path } with its size and MD5
local function store_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then
    if #data <= MEMORY_MAX then
      return { data = data, size = #data, md5 = crypto.md5_hex(data) }
    end
    local path = new_path()
    local f = assert(io_open(path, "wb"))
    f:write(data)
    f:close()
    return { path = path, size = #data, md5 = crypto.md5_hex(data) }
  end
  local spooled = ngx.req.get_body_file()
  if not spooled then return { data = "", size = 0, md5 = crypto.md5_hex("") } end
  local src = assert(io_open(spooled, "rb"))
  local path = new_path()
  local dst = assert(io_open(path, "wb"))
  local m, size = crypto.md5_stream(), 0
  while true do
    local chunk = src:read(CHUNK)
    if not chunk then break end
    m.update(chunk)
    dst:write(chunk)
    size = size + #chunk
  end
  src:close()
  dst:close()
  return { path = path, size = size, md5 = m.hex() }
end

local function drop(obj)
  if obj and obj.path then os.remove(obj.path) end
end

-- sends bytes [first, last] of an object, in chunks from its file
local function send_bytes(obj, first, last)
  if obj.data then
    ngx.print(sub(obj.data, first + 1, last + 1))
    return
  end
  local f = io_open(obj.path, "rb")
  if not f then return end
  f:seek("set", first)
  local left = last - first + 1
  while left > 0 do
    local chunk = f:read(min(CHUNK, left))
    if not chunk then break end
    left = left - #chunk
    ngx.print(chunk)
    ngx.flush(true)
  end
  f:close()
end

------------------------------------------------------------ operations

local function meta_headers(req, prefix)
  local meta = {}
  for k in pairs(req.headers) do
    local lk = lower(k)
    if sub(lk, 1, #prefix + 5) == prefix .. "meta-" then
      meta[sub(lk, #prefix + 6)] = header(req.headers, k)
    end
  end
  return meta
end

local function object_headers(obj, prefix)
  local h = { ETag = '"' .. obj.md5 .. '"', ["Last-Modified"] = ngx.http_time(floor(obj.mtime)),
              ["Content-Type"] = obj.ctype or "binary/octet-stream" }
  for k, v in pairs(obj.meta or {}) do h[prefix .. "meta-" .. k] = v end
  return h
end

local function list_buckets()
  local names = {}
  for n in pairs(buckets) do names[#names + 1] = n end
  sort(names)
  local out = { '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult>'
    .. "<Owner><ID>emulator-owner</ID></Owner><Buckets>" }
  for _, n in ipairs(names) do
    out[#out + 1] = "<Bucket><Name>" .. n .. "</Name><CreationDate>" .. iso(buckets[n].created)
      .. "</CreationDate><Location>" .. xml_escape(buckets[n].location) .. "</Location></Bucket>"
  end
  out[#out + 1] = "</Buckets></ListAllMyBucketsResult>"
  return reply(200, concat(out))
end

-- one page of keys after `marker` under `prefix`, those sharing a part up
-- to the delimiter folded into one common prefix
local function page_of(b, prefix, marker, delim, max)
  local keys = {}
  for k in pairs(b.objects) do
    if sub(k, 1, #prefix) == prefix and k > marker then keys[#keys + 1] = k end
  end
  sort(keys)
  local contents, prefixes, seen, count, truncated, last = {}, {}, {}, 0, false, nil
  for _, k in ipairs(keys) do
    local cp
    if delim then
      local at = find(k, delim, #prefix + 1, true)
      if at then cp = sub(k, 1, at + #delim - 1) end
    end
    if not (cp and seen[cp]) and not (cp and cp <= marker) then
      if count >= max then truncated = true break end
      count = count + 1
      if cp then
        seen[cp] = true
        prefixes[#prefixes + 1] = cp
        last = cp
      else
        contents[#contents + 1] = k
        last = k
      end
    end
  end
  return contents, prefixes, truncated, last
end

local function arg_string(args, name)
  local v = args[name]
  return type(v) == "string" and v or ""
end

local function list_objects(b, req)
  local args = req.args
  local prefix, marker = arg_string(args, "prefix"), arg_string(args, "marker")
  local delim = arg_string(args, "delimiter")
  if delim == "" then delim = nil end
  local max = tonumber(args["max-keys"]) or 1000
  if max < 0 or max > 1000 then max = 1000 end
  local contents, prefixes, truncated, last = page_of(b, prefix, marker, delim, max)
  local out = { '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>', req.bucket,
    "</Name><Prefix>", xml_escape(prefix), "</Prefix><Marker>", xml_escape(marker),
    "</Marker><MaxKeys>", tostring(max), "</MaxKeys>" }
  if delim then out[#out + 1] = "<Delimiter>" .. xml_escape(delim) .. "</Delimiter>" end
  out[#out + 1] = "<IsTruncated>" .. tostring(truncated) .. "</IsTruncated>"
  -- as S3 does: NextMarker only with a delimiter
  if truncated and delim then out[#out + 1] = "<NextMarker>" .. xml_escape(last) .. "</NextMarker>" end
  for _, k in ipairs(contents) do
    local o = b.objects[k]
    out[#out + 1] = "<Contents><Key>" .. xml_escape(k) .. "</Key><LastModified>" .. iso(o.mtime)
      .. "</LastModified><ETag>&quot;" .. o.md5 .. "&quot;</ETag><Size>" .. o.size
      .. "</Size><StorageClass>STANDARD</StorageClass></Contents>"
  end
  for _, p in ipairs(prefixes) do
    out[#out + 1] = "<CommonPrefixes><Prefix>" .. xml_escape(p) .. "</Prefix></CommonPrefixes>"
  end
  out[#out + 1] = "</ListBucketResult>"
  return reply(200, concat(out))
end

local function bucket_op(method, req)
  local name = req.bucket
  local b = buckets[name]
  if method == "PUT" then
    state.count("obs.create_bucket")
    if b then return fail(409, "BucketAlreadyOwnedByYou", "Your previous request to create the "
      .. "named bucket succeeded and you already own it") end
    ngx.req.read_body()
    local body = ngx.req.get_body_data() or ""
    local location = match(body, "<Location>([^<]*)</Location>") or "region"
    buckets[name] = { created = ngx.now(), objects = {}, location = location }
    return reply(200, nil, { Location = "/" .. name })
  end
  if not b then return fail(404, "NoSuchBucket", "The specified bucket does not exist") end
  if method == "HEAD" then
    state.count("obs.head_bucket")
    return reply(200, nil, { ["x-obs-bucket-location"] = b.location })
  elseif method == "DELETE" then
    state.count("obs.delete_bucket")
    if next(b.objects) then
      return fail(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
    end
    buckets[name] = nil
    return reply(204)
  elseif method == "GET" then
    state.count("obs.list_objects")
    return list_objects(b, req)
  end
  return fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource")
end

local function range_of(spec, size)
  local a, z = match(spec or "", "^bytes=(%d*)%-(%d*)$")
  if not a or (a == "" and z == "") then return nil end
  local first, last
  if a == "" then
    first, last = size - tonumber(z), size - 1
    if first < 0 then first = 0 end
  else
    first = tonumber(a)
    last = z ~= "" and min(tonumber(z), size - 1) or size - 1
  end
  if first > last or first >= size then return false end
  return first, last
end

local function get_object(obj, req, prefix, head)
  local want = header(req.headers, "if-match")
  if want and gsub(want, '"', "") ~= obj.md5 then
    return fail(412, "PreconditionFailed", "At least one of the preconditions you specified did not hold")
  end
  local h = object_headers(obj, prefix)
  local first, last = 0, obj.size - 1
  local status = 200
  local spec = header(req.headers, "range")
  if spec then
    local f, l = range_of(spec, obj.size)
    if f == false then return fail(416, "InvalidRange", "The requested range cannot be satisfied") end
    if f then
      first, last, status = f, l, 206
      h["Content-Range"] = "bytes " .. f .. "-" .. l .. "/" .. obj.size
    end
  end
  ngx.status = status
  for k, v in pairs(h) do ngx.header[k] = v end
  ngx.header["Content-Length"] = last - first + 1
  if not head and obj.size > 0 then send_bytes(obj, first, last) end
  return ngx.exit(ngx.OK) or true
end

local function put_object(b, req, prefix)
  local copy = header(req.headers, prefix .. "copy-source")
  if copy then
    state.count("obs.copy_object")
    local sb, sk = match(unescape(copy), "^/?([^/]+)/(.+)$")
    local src = sb and buckets[sb] and buckets[sb].objects[sk]
    if not sb or not buckets[sb] then return fail(404, "NoSuchBucket", "The source bucket does not exist") end
    if not src then return fail(404, "NoSuchKey", "The specified key does not exist.") end
    local obj = { size = src.size, md5 = src.md5, mtime = ngx.now(), ctype = src.ctype, meta = src.meta }
    if src.data then
      obj.data = src.data
    else
      obj.path = new_path()
      local i, o = assert(io_open(src.path, "rb")), assert(io_open(obj.path, "wb"))
      while true do
        local c = i:read(CHUNK)
        if not c then break end
        o:write(c)
      end
      i:close()
      o:close()
    end
    if header(req.headers, prefix .. "metadata-directive") == "REPLACE" then
      obj.meta = meta_headers(req, prefix)
      obj.ctype = header(req.headers, "content-type")
    end
    drop(b.objects[req.key] ~= src and b.objects[req.key] or nil)
    b.objects[req.key] = obj
    return reply(200, '<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>'
      .. iso(obj.mtime) .. "</LastModified><ETag>&quot;" .. obj.md5 .. "&quot;</ETag></CopyObjectResult>")
  end
  state.count("obs.put_object")
  local obj = store_body()
  local md5h = header(req.headers, "content-md5")
  if md5h then
    local want = ngx.decode_base64(md5h)
    if not want or crypto.to_hex(want) ~= obj.md5 then
      drop(obj)
      return fail(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    end
  end
  obj.mtime, obj.ctype, obj.meta = ngx.now(), header(req.headers, "content-type"), meta_headers(req, prefix)
  drop(b.objects[req.key])
  b.objects[req.key] = obj
  return reply(200, nil, { ETag = '"' .. obj.md5 .. '"' })
end

------------------------------------------------------------ multipart

local function new_upload_id()
  return crypto.random_hex(16)
end

local function initiate(req, prefix)
  state.count("obs.initiate_multipart_upload")
  local id = new_upload_id()
  uploads[id] = { bucket = req.bucket, key = req.key, parts = {},
                  ctype = header(req.headers, "content-type"), meta = meta_headers(req, prefix) }
  return reply(200, '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>'
    .. req.bucket .. "</Bucket><Key>" .. xml_escape(req.key) .. "</Key><UploadId>" .. id
    .. "</UploadId></InitiateMultipartUploadResult>")
end

local function upload_part(id, up, req)
  local n = tonumber(req.args.partNumber)
  if not n or n < 1 or n > 10000 or n ~= floor(n) then
    return fail(400, "InvalidArgument", "partNumber must be a whole number from 1 to 10000")
  end
  state.count("obs.upload_part")
  local k = id .. "#" .. n
  part_sends[k] = (part_sends[k] or 0) + 1
  local obj = store_body()
  drop(up.parts[n])
  up.parts[n] = obj
  return reply(200, nil, { ETag = '"' .. obj.md5 .. '"' })
end

-- the parts a CompleteMultipartUpload body lists, in order: list | nil, code, message
local function listed_parts(up, body)
  local list, prev = {}, 0
  for part in gmatch(body, "<Part>(.-)</Part>") do
    local n = tonumber(match(part, "<PartNumber>(%d+)</PartNumber>"))
    local etag = match(part, "<ETag>(.-)</ETag>")
    etag = etag and gsub(gsub(etag, "&quot;", '"'), '"', "")
    if not n or n <= prev then return nil, "InvalidPartOrder", "The parts must be in ascending order" end
    local p = up.parts[n]
    if not p or p.md5 ~= etag then
      return nil, "InvalidPart", "Part " .. tostring(n) .. " was not uploaded or its ETag differs"
    end
    list[#list + 1] = p
    prev = n
  end
  if #list == 0 then return nil, "MalformedXML", "No parts listed" end
  return list
end

-- the parts joined into one file, streamed: path, size, multipart ETag
local function join_parts(list)
  local path = new_path()
  local out = assert(io_open(path, "wb"))
  local size, raw = 0, {}
  for i, p in ipairs(list) do
    if p.data then
      out:write(p.data)
    else
      local f = assert(io_open(p.path, "rb"))
      while true do
        local c = f:read(CHUNK)
        if not c then break end
        out:write(c)
      end
      f:close()
    end
    size = size + p.size
    raw[i] = (gsub(p.md5, "%x%x", function(x) return char(tonumber(x, 16)) end))
  end
  out:close()
  -- a multipart ETag: the MD5 of the parts' MD5s, then "-<parts>"
  return path, size, crypto.md5_hex(concat(raw)) .. "-" .. #list
end

local function complete(id, up, b, req)
  state.count("obs.complete_multipart_upload")
  ngx.req.read_body()
  local list, code, msg = listed_parts(up, ngx.req.get_body_data() or "")
  if not list then return fail(400, code, msg) end
  local path, size, etag = join_parts(list)
  for _, p in pairs(up.parts) do drop(p) end
  uploads[id] = nil
  drop(b.objects[req.key])
  b.objects[req.key] = { path = path, size = size, md5 = etag, mtime = ngx.now(), ctype = up.ctype,
                         meta = up.meta }
  return reply(200, '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Location>/'
    .. req.bucket .. "/" .. xml_escape(req.key) .. "</Location><Bucket>" .. req.bucket
    .. "</Bucket><Key>" .. xml_escape(req.key) .. "</Key><ETag>&quot;" .. etag
    .. "&quot;</ETag></CompleteMultipartUploadResult>")
end

local function multipart(method, b, req, prefix)
  if method == "POST" and req.args.uploads then return initiate(req, prefix) end
  local id = req.args.uploadId
  local up = type(id) == "string" and uploads[id]
  if not up or up.bucket ~= req.bucket or up.key ~= req.key then
    return fail(404, "NoSuchUpload", "The specified upload does not exist")
  end
  if method == "PUT" then return upload_part(id, up, req) end
  if method == "POST" then return complete(id, up, b, req) end
  if method == "DELETE" then
    state.count("obs.abort_multipart_upload")
    for _, p in pairs(up.parts) do drop(p) end
    uploads[id] = nil
    return reply(204)
  end
  return fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource")
end

------------------------------------------------------------ entry

-- bucket and key of a request: the host names the bucket (virtual-hosted
-- style, <bucket>.obs.<region>...) or the path's first segment does
local function locate(path, headers)
  local host = lower(header(headers, "host") or "")
  local vb = match(host, "^([a-z0-9][a-z0-9.-]*)%.obs%.")
  local rawkey
  if vb then
    rawkey = sub(path, 2)
    return vb, rawkey
  end
  local b, k = match(path, "^/([^/]+)/?(.*)$")
  return b, k
end

-- claims(path, headers, query): whether a request no described operation
-- takes is for object storage: a host naming OBS, an OBS or AWS
-- signature, or a bucket the emulator holds
-- claims(path, headers, query) -> "sure" (no other service signs or is
-- addressed so), "maybe" (a bucket of that name exists) or nil
function _M.claims(path, headers, query)
  local host = lower(header(headers, "host") or "")
  if find(host, "^obs%.") or find(host, "%.obs%.") then return "sure" end
  local auth = header(headers, "authorization") or ""
  if find(auth, "^OBS ") or find(auth, "^AWS ") or find(auth, "^AWS4%-HMAC%-SHA256 ") then
    return "sure"
  end
  query = query or ""
  if find(query, "AccessKeyId=", 1, true) or find(query, "X-Amz-Signature=", 1, true) then
    return "sure"
  end
  local b = match(path, "^/([^/]+)")
  return b ~= nil and buckets[b] ~= nil and "maybe" or nil
end

local function object_op(method, b, req, prefix)
  if method == "PUT" then return put_object(b, req, prefix) end
  local obj = b.objects[req.key]
  if method == "GET" or method == "HEAD" then
    state.count(method == "GET" and "obs.get_object" or "obs.get_object_metadata")
    if not obj then return fail(404, "NoSuchKey", "The specified key does not exist.") end
    return get_object(obj, req, prefix, method == "HEAD")
  elseif method == "DELETE" then
    state.count("obs.delete_object")
    drop(obj)
    b.objects[req.key] = nil
    return reply(204)
  end
  return fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource")
end

-- times each part of each upload was received, for the specs:
-- { ["<upload id>#<n>"] = count }
function _M.part_sends() return part_sends end

function _M.handle(method, path, query, rid)
  local latency = state.config.latency_ms
  if latency and latency > 0 then ngx.sleep(latency / 1000) end
  ngx.header["x-obs-request-id"] = rid
  ngx.header["X-Request-Id"] = nil
  local headers = ngx.req.get_headers(200)
  local bucket, rawkey = locate(path, headers)
  local key = rawkey and rawkey ~= "" and unescape(rawkey) or nil
  local args = ngx.req.get_uri_args(100)
  local req = { method = method, path = path, query = query, headers = headers, args = args,
                bucket = bucket, key = key }
  local kind, status, code, msg = check(req)
  if not kind then return fail(status, code, msg) end
  local prefix = kind == "OBS" and "x-obs-" or "x-amz-"
  if not bucket then
    if method ~= "GET" then return fail(405, "MethodNotAllowed", "Only GET is allowed on /") end
    state.count("obs.list_buckets")
    return list_buckets()
  end
  if not key then return bucket_op(method, req) end
  local b = buckets[bucket]
  if not b then return fail(404, "NoSuchBucket", "The specified bucket does not exist") end
  if args.uploads or args.uploadId then return multipart(method, b, req, prefix) end
  return object_op(method, b, req, prefix)
end

return _M
