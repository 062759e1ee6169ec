-- hwcloud.obs: client.obs, object storage (OBS) in its own S3-shaped XML
-- API, with the official OBS SDKs' operation names in snake_case.
--
--   client.obs:put_object{ bucket =, key =, body = STRING | file = PATH }
--   client.obs:get_object{ bucket =, key =, file? = PATH, range? = "bytes=0-9" }
--   client.obs:upload_file{ bucket =, key =, file =, part_size?, concurrency?, checkpoint? }
--
-- A transfer's bytes are checked by default: their MD5 against the ETag
-- OBS answers (and sent as Content-MD5 with a string body). `checksum =
-- false` in a call, or the client's `obs_checksum = false`, skips the
-- hashing and the check, for files whose integrity is checked elsewhere.
--
-- Requests are signed by hwcloud.obs.sign (obs_signature: "obs", "v2",
-- "v4"), sent through the client's engine (libcurl, or cosockets inside
-- nginx) with the client's retry policy. A file's bytes stream between the
-- file and the connection: neither an upload nor a download holds a whole
-- file in memory.

local type, tostring, tonumber, pairs, ipairs, setmetatable, error, require =
  type, tostring, tonumber, pairs, ipairs, setmetatable, error, require
local format, lower, sub, find = string.format, string.lower, string.sub, string.find
local floor = math.floor

local core = require "hwcloud.core"
local errors = require "hwcloud.errors"
local retry = require "hwcloud.retry"
local sign = require "hwcloud.obs.sign"
local xml = require "hwcloud.obs.xml"

local _M = {}

local Obs = {}
Obs.__index = Obs

local SERVICE = "obs"
local SAFE = { GET = true, HEAD = true }
-- PUT of a whole object and DELETE are idempotent in OBS's model: sending
-- one again leaves the same state
local IDEMPOTENT = { PUT = true, DELETE = true }

local function invalid(op, field, message)
  return nil, errors.validation(field, message, SERVICE, op)
end

local function nonempty(v) return type(v) == "string" and v ~= "" end

-- bucket names as OBS allows them: 3-63 of a-z 0-9 . -
local function check_bucket(op, req)
  local b = req.bucket
  if not nonempty(b) then return invalid(op, "bucket", "is required (a string)") end
  if #b < 3 or #b > 63 or not b:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") then
    return invalid(op, "bucket", "must be 3-63 characters of a-z, 0-9, '.' and '-'")
  end
  return true
end

local function check_key(op, req)
  local ok, err = check_bucket(op, req)
  if not ok then return nil, err end
  if not nonempty(req.key) then return invalid(op, "key", "is required (a string)") end
  if #req.key > 1024 then return invalid(op, "key", "must be at most 1024 bytes") end
  return true
end

------------------------------------------------------------ endpoints

-- base(self) -> url, path_style: endpoints.obs or endpoint switch to path
-- style; else virtual-hosted on the region's OBS host
local function base_of(self)
  local cfg = self.env.cfg
  local url = cfg.endpoint_for and cfg.endpoint_for.obs or cfg.endpoint
  if url then return (url:gsub("/+$", "")), true end
  if not cfg.region then
    return nil, errors.validation("region", "is required to reach obs (set region, endpoint "
      .. "or endpoints.obs)", SERVICE)
  end
  return "https://obs." .. cfg.region .. ".myhuaweicloud.com", false
end

local function split_url(url)
  local scheme, host, path = url:match("^(%a[%w+.-]*)://([^/]+)(.*)$")
  return scheme, host, path or ""
end

-- target(self, bucket, key) -> url (without query), host, path
local function target(self, bucket, key)
  local base, path_style = base_of(self)
  if not base then return nil, path_style end
  local scheme, host, prefix = split_url(base)
  local path = prefix
  if bucket then
    if path_style then
      path = path .. "/" .. bucket
    else
      host = bucket .. "." .. host
    end
  end
  path = path .. "/" .. (key and sign.encode(key, true) or "")
  return scheme .. "://" .. host .. path, host, path
end

local function query_string(q)
  local s = sign.canonical_query(q)
  return s ~= "" and ("?" .. s) or ""
end

------------------------------------------------------------ errors

local HEAD_CODE = { [404] = "NoSuchKey", [403] = "AccessDenied" }

local function request_id(h)
  return h and (h["x-obs-request-id"] or h["x-amz-request-id"] or h["x-request-id"]) or nil
end

-- an error answer: code and message from OBS's <Error>, else the status
local function http_error(c, op, safe, bucket_op)
  local code, message
  local doc = c.body and c.body ~= "" and xml.parse(c.body)
  if doc and doc.name == "Error" then
    code, message = xml.text(doc, "Code"), xml.text(doc, "Message")
  end
  code = code or c.headers["x-obs-error-code"]
  if not code and c.status == 404 then code = bucket_op and "NoSuchBucket" or HEAD_CODE[404] end
  code = code or HEAD_CODE[c.status]
  return errors.new("http", {
    status = c.status, code = code,
    message = message or c.headers["x-obs-error-message"] or ("HTTP " .. tostring(c.status)),
    request_id = request_id(c.headers) or (doc and xml.text(doc, "RequestId")),
    service = SERVICE, operation = op,
    retryable = retry.repeatable({ kind = "http", status = c.status }, safe),
  })
end

------------------------------------------------------------ sending

local function header_lines(env, headers)
  local lines = { "User-Agent: " .. env.user_agent }
  for k, v in pairs(headers) do
    if lower(k) ~= "host" then lines[#lines + 1] = k .. ": " .. tostring(v) end
  end
  return lines
end

-- the transport's options: timeouts, `once`, and the files streamed
local function transport_opts(cfg, t, safe)
  local topts = { timeout = t.timeout or cfg.timeout, connect_timeout = cfg.connect_timeout,
                  once = retry.once(safe) }
  if t.upload then
    -- a file or a span of it: a body of one piece
    topts.upload_pieces = { { path = t.upload.file, offset = t.upload.offset,
                              length = t.upload.length } }
  end
  if t.download then topts.download_file, topts.download_offset = t.download, t.download_offset end
  -- the core hashes a file's bytes only for a caller that compares them
  topts.file_md5 = t.checksum or nil
  return topts
end

-- outcome(c, t, safe) -> completion | nil, err, final (no retry helps)
local function outcome(c, t, safe)
  if c.status and c.status < 300 then
    if c.file_error then
      return nil, errors.new("transport", { message = "cannot write " .. tostring(t.download)
        .. ": " .. c.file_error, service = SERVICE, operation = t.op }), true
    end
    return c
  elseif c.status then
    return nil, http_error(c, t.op, safe, t.bucket_op)
  end
  local err = errors.transport(c, { service = SERVICE, operation = t.op, safe = safe })
  if c.message and (find(c.message, "cannot read", 1, true)
      or find(c.message, "cannot write", 1, true)) then
    -- a file the transport could not open, read or write: named, not retried
    err.message = c.message
    err.retryable = false
    return nil, err, true
  end
  return nil, err
end

-- send(self, engine, t) -> completion | nil, err. t: op, method, bucket,
-- key, query, headers (table), body (string), upload {file, offset,
-- length}, download (path), bucket_op (a 404 means the bucket).
local function send(self, engine, t)
  local env, cfg = self.env, self.env.cfg
  local mode = cfg.obs_signature or "obs"
  local url, host, path = target(self, t.bucket, t.key)
  if not url then return nil, host end
  local safe = SAFE[t.method] or IDEMPOTENT[t.method] or t.idempotent or cfg.retry_unsafe or false
  local policy = { retries = cfg.retries, retry_base = cfg.retry_base,
                   retry_max_delay = cfg.retry_max_delay }
  local attempt = 0
  while true do
    attempt = attempt + 1
    local headers = {}
    for k, v in pairs(t.headers or {}) do headers[k] = v end
    local r = { method = t.method, bucket = t.bucket, key = t.key, query = t.query or {},
                headers = headers, host = host, path = path, region = cfg.region or "region" }
    local ok, serr = env.auth:with_keys(engine, function(keys)
      return sign.sign(mode, r, keys, os.time())
    end)
    if not ok then
      serr.service, serr.operation = SERVICE, t.op
      return nil, serr
    end
    local c = engine:send { method = t.method, url = url .. query_string(r.query),
                            headers = header_lines(env, headers), body = t.body,
                            opts = transport_opts(cfg, t, safe) }
    local res, err, final = outcome(c, t, safe)
    if res then return res end
    if final then return nil, err end
    err.attempts = attempt
    local delay = retry.decide(err, safe, attempt, policy)
    if not delay then return nil, err end
    engine:sleep(delay)
  end
end

-- the engine call of one operation: fn(self, engine, req) as a task
local function run(self, fn, req)
  local engine = self.engine_for(self.env)
  return engine:call(function(e) return fn(self, e, req) end)
end

local function unquote(etag)
  return etag and (etag:gsub('^"(.*)"$', "%1")) or nil
end

local function meta_prefix(self)
  return (self.env.cfg.obs_signature == "v2" or self.env.cfg.obs_signature == "v4")
    and "x-amz-" or "x-obs-"
end

-- the object's headers as a result: etag, size, type, metadata
local function object_result(self, c)
  local h, meta = c.headers, {}
  local mp = meta_prefix(self) .. "meta-"
  for k, v in pairs(h) do
    if sub(k, 1, #mp) == mp then meta[sub(k, #mp + 1)] = v end
  end
  return {
    etag = unquote(h.etag), content_length = tonumber(h["content-length"]),
    content_type = h["content-type"], last_modified = h["last-modified"],
    version_id = h["x-obs-version-id"] or h["x-amz-version-id"], metadata = meta,
    request_id = request_id(h),
  }
end

local function readable(op, field, path)
  if not nonempty(path) then return invalid(op, field, "is required (a path)") end
  local info, why = core.file_info(path)
  if not info then return invalid(op, field, "cannot read " .. path .. ": " .. tostring(why)) end
  if info.kind ~= "file" then return invalid(op, field, path .. " is not a regular file") end
  local f, ferr = io.open(path, "rb")
  if not f then return invalid(op, field, "cannot read " .. tostring(ferr)) end
  f:close()
  return info
end

local function writable(op, field, path)
  if not nonempty(path) then return invalid(op, field, "is required (a path)") end
  local info = core.file_info(path)
  if info and info.kind == "directory" then return invalid(op, field, path .. " is a directory") end
  -- append mode: checks the file can be written without truncating it yet
  local f, ferr = io.open(path, "ab")
  if not f then return invalid(op, field, "cannot write " .. tostring(ferr)) end
  f:close()
  if not info then os.remove(path) end
  return true
end

-- checksum(self, op, req) -> true | false | nil, err: whether the call
-- checks its bytes' MD5 (req.checksum, else the client's obs_checksum)
local function checksum(self, op, req)
  local v = req.checksum
  if v == nil then v = self.env.cfg.obs_checksum end
  if v == nil then return true end
  if type(v) ~= "boolean" then
    return invalid(op, "checksum", "expected true or false, got " .. type(v))
  end
  return v
end

local function md5_b64(s) return core.base64(core.digest("md5", s)) end

-- an ETag that is an MD5 (not a multipart ETag "<md5>-<n>") must match
local function etag_matches(etag, md5hex)
  if not etag or not md5hex or not etag:match("^%x+$") or #etag ~= 32 then return true end
  return lower(etag) == md5hex
end

------------------------------------------------------------ buckets

function Obs.list_buckets(self, req)
  return run(self, function(s, e)
    local c, err = send(s, e, { op = "list_buckets", method = "GET" })
    if not c then return nil, err end
    local doc, perr = xml.parse(c.body)
    if not doc then return nil, errors.decode(perr, c.status, c.headers, { service = SERVICE,
      operation = "list_buckets" }) end
    local out = { buckets = {}, owner = { id = xml.text(doc, "Owner/ID") } }
    for _, b in ipairs(xml.all(xml.find(doc, "Buckets"), "Bucket")) do
      out.buckets[#out.buckets + 1] = { name = xml.text(b, "Name"),
        creation_date = xml.text(b, "CreationDate"), location = xml.text(b, "Location") }
    end
    return out
  end, req)
end

function Obs.create_bucket(self, req)
  req = req or {}
  local ok, err = check_bucket("create_bucket", req)
  if not ok then return nil, err end
  return run(self, function(s, e)
    local location = req.location
    local _, path_style = base_of(s)
    if location == nil and not path_style then location = s.env.cfg.region end
    local body
    if location then
      body = "<CreateBucketConfiguration><Location>" .. xml.escape(location)
        .. "</Location></CreateBucketConfiguration>"
    end
    local c, serr = send(s, e, { op = "create_bucket", method = "PUT", bucket = req.bucket,
      body = body or "", bucket_op = true,
      headers = req.acl and { [meta_prefix(s) .. "acl"] = req.acl } or nil })
    if not c then return nil, serr end
    return { location = c.headers.location, request_id = request_id(c.headers) }
  end, req)
end

function Obs.head_bucket(self, req)
  req = req or {}
  local ok, err = check_bucket("head_bucket", req)
  if not ok then return nil, err end
  return run(self, function(s, e)
    local c, serr = send(s, e, { op = "head_bucket", method = "HEAD", bucket = req.bucket,
      bucket_op = true })
    if not c then return nil, serr end
    return { request_id = request_id(c.headers),
             location = c.headers["x-obs-bucket-location"] }
  end, req)
end

function Obs.delete_bucket(self, req)
  req = req or {}
  local ok, err = check_bucket("delete_bucket", req)
  if not ok then return nil, err end
  return run(self, function(s, e)
    local c, serr = send(s, e, { op = "delete_bucket", method = "DELETE", bucket = req.bucket,
      bucket_op = true })
    if not c then return nil, serr end
    return { request_id = request_id(c.headers) }
  end, req)
end

-- list_objects{bucket, prefix?, marker?, max_keys?, delimiter?} -> {contents =
-- {{key, size, etag, last_modified, storage_class}}, common_prefixes = {...},
-- is_truncated, next_marker, ...}. next_marker is set whenever there is a
-- next page (OBS leaves NextMarker out without a delimiter: the last key).
function Obs.list_objects(self, req)
  req = req or {}
  local ok, err = check_bucket("list_objects", req)
  if not ok then return nil, err end
  local mk = req.max_keys
  if mk ~= nil and (type(mk) ~= "number" or mk < 1 or mk > 1000 or mk ~= floor(mk)) then
    return invalid("list_objects", "max_keys", "must be a whole number from 1 to 1000")
  end
  for _, f in ipairs { "prefix", "marker", "delimiter" } do
    if req[f] ~= nil and type(req[f]) ~= "string" then
      return invalid("list_objects", f, "expected a string, got " .. type(req[f]))
    end
  end
  return run(self, function(s, e)
    local q = { prefix = req.prefix, marker = req.marker, delimiter = req.delimiter,
                ["max-keys"] = mk and tostring(mk) or nil }
    local c, serr = send(s, e, { op = "list_objects", method = "GET", bucket = req.bucket,
      query = q, bucket_op = true })
    if not c then return nil, serr end
    local doc, perr = xml.parse(c.body)
    if not doc or doc.name ~= "ListBucketResult" then
      return nil, errors.decode(perr or "expected ListBucketResult", c.status, c.headers,
        { service = SERVICE, operation = "list_objects" })
    end
    local out = {
      name = xml.text(doc, "Name"), prefix = xml.text(doc, "Prefix"),
      marker = xml.text(doc, "Marker"), delimiter = xml.text(doc, "Delimiter"),
      max_keys = tonumber(xml.text(doc, "MaxKeys")),
      is_truncated = xml.text(doc, "IsTruncated") == "true",
      contents = {}, common_prefixes = {}, request_id = request_id(c.headers),
    }
    for _, o in ipairs(xml.all(doc, "Contents")) do
      out.contents[#out.contents + 1] = {
        key = xml.text(o, "Key"), size = tonumber(xml.text(o, "Size")),
        etag = unquote(xml.text(o, "ETag")), last_modified = xml.text(o, "LastModified"),
        storage_class = xml.text(o, "StorageClass"),
      }
    end
    for _, p in ipairs(xml.all(doc, "CommonPrefixes")) do
      out.common_prefixes[#out.common_prefixes + 1] = xml.text(p, "Prefix")
    end
    if out.is_truncated then
      local nm = xml.text(doc, "NextMarker")
      if not nonempty(nm) then
        local last = out.contents[#out.contents]
        local lastp = out.common_prefixes[#out.common_prefixes]
        nm = last and last.key or lastp
        if last and lastp and lastp > last.key then nm = lastp end
      end
      out.next_marker = nm
    end
    return out
  end, req)
end

-- pages(obs, req) -> iterator of page | false, err: client:pages over
-- list_objects, by NextMarker while IsTruncated (a page of only common
-- prefixes is no last page)
function _M.pages(o, req)
  local r = {}
  for k, v in pairs(req or {}) do r[k] = v end
  local done = false
  return function()
    if done then return nil end
    local page, err = o:list_objects(r)
    if not page then
      done = true
      return false, err
    end
    if not page.is_truncated or not page.next_marker or page.next_marker == r.marker then
      done = true
    else
      r.marker = page.next_marker
    end
    return page
  end
end

-- What client:each reads: the items are `contents`.
_M.PAGER_OP = {
  name = "list_objects",
  request = { fields = { marker = { location = "query" }, max_keys = { location = "query" } } },
  response = { fields = { contents = { type = "array" } } },
}

------------------------------------------------------------ objects

local function put_headers(self, req)
  local h = {}
  if req.content_type then h["Content-Type"] = req.content_type end
  local mp = meta_prefix(self) .. "meta-"
  for k, v in pairs(req.metadata or {}) do h[mp .. tostring(k)] = tostring(v) end
  if req.acl then h[meta_prefix(self) .. "acl"] = req.acl end
  return h
end

local function check_put(op, req)
  local ok, err = check_key(op, req)
  if not ok then return nil, err end
  if req.body ~= nil and req.file ~= nil then
    return invalid(op, "body", "give body or file, not both")
  end
  if req.body ~= nil and type(req.body) ~= "string" then
    return invalid(op, "body", "expected a string, got " .. type(req.body))
  end
  if req.metadata ~= nil and type(req.metadata) ~= "table" then
    return invalid(op, "metadata", "expected a table {name = value}")
  end
  if req.content_type ~= nil and type(req.content_type) ~= "string" then
    return invalid(op, "content_type", "expected a string")
  end
  return true
end

-- put_object{bucket, key, body = STRING | file = PATH, content_type?, metadata?}
function Obs.put_object(self, req)
  req = req or {}
  local ok, err = check_put("put_object", req)
  if not ok then return nil, err end
  local check
  check, err = checksum(self, "put_object", req)
  if check == nil then return nil, err end
  local info
  if req.file ~= nil then
    info, err = readable("put_object", "file", req.file)
    if not info then return nil, err end
  end
  return run(self, function(s, e)
    local h = put_headers(s, req)
    local t = { op = "put_object", method = "PUT", bucket = req.bucket, key = req.key, headers = h,
                checksum = check }
    local md5hex
    if req.file then
      t.upload = { file = req.file, offset = 0, length = info.size }
    else
      t.body = req.body or ""
      if check then
        h["Content-MD5"] = md5_b64(t.body)
        md5hex = sign.hex(core.digest("md5", t.body))
      end
    end
    local c, serr = send(s, e, t)
    if not c then return nil, serr end
    local res = object_result(s, c)
    md5hex = md5hex or c.file_md5
    if check and not etag_matches(res.etag, md5hex) then
      return nil, errors.new("decode", { message = "ETag " .. tostring(res.etag) .. " does not "
        .. "match the MD5 of what was sent", service = SERVICE, operation = "put_object" })
    end
    return res
  end, req)
end

-- get_object{bucket, key, file? = PATH, range? = "bytes=A-B"}: the bytes in
-- `body`, or streamed to `file`
function Obs.get_object(self, req, opts)
  req = req or {}
  local op = (opts and opts.op) or "get_object"
  local ok, err = check_key(op, req)
  if not ok then return nil, err end
  local check
  check, err = checksum(self, op, req)
  if check == nil then return nil, err end
  if req.file ~= nil then
    ok, err = writable(op, "file", req.file)
    if not ok then return nil, err end
  end
  if req.range ~= nil and (type(req.range) ~= "string" or not req.range:match("^bytes=%d*%-%d*$")) then
    return invalid(op, "range", 'must be "bytes=FIRST-LAST" (either may be left out)')
  end
  return run(self, function(s, e)
    local c, serr = send(s, e, { op = op, method = "GET", bucket = req.bucket, key = req.key,
      headers = req.range and { Range = req.range } or nil, download = req.file,
      -- a range's bytes are a part of the object: nothing to compare them with
      checksum = check and not req.range })
    if not c then return nil, serr end
    local res = object_result(s, c)
    res.content_range = c.headers["content-range"]
    local md5hex
    if req.file then
      res.file, res.size = req.file, c.file_bytes or 0
      md5hex = c.file_md5
    else
      res.body = c.body
      if check then md5hex = sign.hex(core.digest("md5", c.body or "")) end
    end
    -- a whole object's MD5 ETag is checked; a range's bytes are a part of it
    if check and not req.range and c.status == 200 and not etag_matches(res.etag, md5hex) then
      return nil, errors.new("decode", { message = "the object's bytes do not match its ETag",
        service = SERVICE, operation = op, request_id = res.request_id })
    end
    return res
  end, req)
end

function Obs.get_object_metadata(self, req)
  req = req or {}
  local ok, err = check_key("get_object_metadata", req)
  if not ok then return nil, err end
  return run(self, function(s, e)
    local c, serr = send(s, e, { op = "get_object_metadata", method = "HEAD",
      bucket = req.bucket, key = req.key })
    if not c then return nil, serr end
    return object_result(s, c)
  end, req)
end

function Obs.delete_object(self, req)
  req = req or {}
  local ok, err = check_key("delete_object", req)
  if not ok then return nil, err end
  return run(self, function(s, e)
    local c, serr = send(s, e, { op = "delete_object", method = "DELETE", bucket = req.bucket,
      key = req.key })
    if not c then return nil, serr end
    return { request_id = request_id(c.headers) }
  end, req)
end

-- copy_object{bucket, key, source_bucket, source_key, metadata? (replaces)}
function Obs.copy_object(self, req)
  req = req or {}
  local ok, err = check_key("copy_object", req)
  if not ok then return nil, err end
  if not nonempty(req.source_bucket) then return invalid("copy_object", "source_bucket", "is required") end
  if not nonempty(req.source_key) then return invalid("copy_object", "source_key", "is required") end
  return run(self, function(s, e)
    local p = meta_prefix(s)
    local h = put_headers(s, req)
    h[p .. "copy-source"] = "/" .. req.source_bucket .. "/" .. sign.encode(req.source_key, true)
    h[p .. "metadata-directive"] = req.metadata and "REPLACE" or "COPY"
    local c, serr = send(s, e, { op = "copy_object", method = "PUT", bucket = req.bucket,
      key = req.key, headers = h, body = "" })
    if not c then return nil, serr end
    local doc = xml.parse(c.body)
    -- a copy can fail after its 200 (the body then holds an <Error>)
    if doc and doc.name == "Error" then
      c.status = 500
      return nil, http_error(c, "copy_object", false)
    end
    return { etag = unquote(doc and xml.text(doc, "ETag")),
             last_modified = doc and xml.text(doc, "LastModified"),
             request_id = request_id(c.headers) }
  end, req)
end

-- create_signed_url{method, bucket, key, expires, content_type?} -> URL: a
-- request anyone holding the URL may make until `expires` seconds from now
-- (with content_type, a PUT must send that Content-Type)
function Obs.create_signed_url(self, req)
  req = req or {}
  local method = req.method or "GET"
  if type(method) ~= "string" or not ({ GET = true, PUT = true, HEAD = true, DELETE = true,
      POST = true })[method] then
    return invalid("create_signed_url", "method", "must be GET, PUT, HEAD, DELETE or POST")
  end
  local ok, err = check_bucket("create_signed_url", req)
  if not ok then return nil, err end
  if req.content_type ~= nil and type(req.content_type) ~= "string" then
    return invalid("create_signed_url", "content_type", "expected a string")
  end
  local expires = req.expires or 300
  if type(expires) ~= "number" or expires < 1 or expires > 7 * 86400 then
    return invalid("create_signed_url", "expires", "must be a number of seconds from 1 to 604800")
  end
  local url, host, path = target(self, req.bucket, req.key)
  if not url then return nil, host end
  local mode = self.env.cfg.obs_signature or "obs"
  local engine = self.engine_for(self.env)
  return engine:call(function(e)
    local q = {}
    for k, v in pairs(req.query or {}) do q[k] = v end
    -- a Content-Type the URL's user will send is part of what is signed
    local r = { method = method, bucket = req.bucket, key = req.key, query = q, host = host,
                path = path, region = self.env.cfg.region or "region",
                headers = { ["Content-Type"] = req.content_type } }
    local signed, serr = self.env.auth:with_keys(e, function(keys)
      return sign.presign(mode, r, keys, os.time(), expires)
    end)
    if not signed then
      serr.service, serr.operation = SERVICE, "create_signed_url"
      return nil, serr
    end
    return url .. query_string(signed)
  end)
end

------------------------------------------------------------ multipart

local multipart = require "hwcloud.obs.multipart"

function Obs.upload_file(self, req, opts)
  return multipart.upload_file(self, req, opts)
end

-- download_file{bucket, key, file, part_size?, concurrency?}: in ranges
-- side by side for a large object, to a temporary file beside `file`,
-- renamed into place once complete and checked (hwcloud.obs.multipart)
function Obs.download_file(self, req, opts)
  return multipart.download_file(self, req, opts)
end

-- internal: multipart.lua's requests
_M.send, _M.run, _M.check_key, _M.readable, _M.invalid = send, run, check_key, readable, invalid
_M.unquote, _M.meta_prefix, _M.put_headers = unquote, meta_prefix, put_headers
_M.http_error, _M.request_id = http_error, request_id
_M.writable, _M.etag_matches, _M.checksum = writable, etag_matches, checksum

Obs.__tostring = function() return "hwcloud service obs" end

-- new(env, engine_for) -> client.obs
function _M.new(env, engine_for)
  return setmetatable({ env = env, engine_for = engine_for }, Obs)
end

-- a misspelt operation raises, as the other services' proxies do
setmetatable(Obs, { __index = function(_, k)
  if type(k) == "string" and sub(k, 1, 1) ~= "_" then
    local names = {}
    for n, v in pairs(Obs) do if type(v) == "function" and sub(n, 1, 2) ~= "__" then names[#names + 1] = n end end
    table.sort(names)
    error(format("hwcloud: obs has no operation '%s'%s", k,
      require("hwcloud.suggest").hint(k, names) or ""), 2)
  end
end })

_M.Obs = Obs
_M.operations = function()
  local names = {}
  for n, v in pairs(Obs) do if type(v) == "function" and sub(n, 1, 2) ~= "__" then names[#names + 1] = n end end
  table.sort(names)
  return names
end
return _M
