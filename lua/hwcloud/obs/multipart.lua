-- hwcloud.obs.multipart: upload_file, a large file in parts sent side by
-- side, resumable from a checkpoint file.
--
-- The checkpoint (JSON) names the upload (bucket, key, upload id) and the
-- file (absolute path, size, modification time, part size), and lists the
-- parts OBS acknowledged with their ETags. It is rewritten (a new file
-- renamed over the old) after each acknowledged part, so a run killed at
-- any moment leaves one that is whole. Started again with it, upload_file
-- sends only the parts it does not list. A checkpoint of another upload
-- (another file, size, modification time, bucket, key or part size) is
-- refused, never spliced.

local type, tostring, tonumber, pairs, ipairs, pcall, select, error =
  type, tostring, tonumber, pairs, ipairs, pcall, select, error
local concat, sort, floor, ceil = table.concat, table.sort, math.floor, math.ceil

local core = require "hwcloud.core"
local errors = require "hwcloud.errors"
local progress = require "hwcloud.progress"
local xml = require "hwcloud.obs.xml"
local cjson = require "cjson.safe"

local _M = {}

local MIN_PART = 100 * 1024            -- OBS: every part but the last
local MAX_PART = 5 * 1024 * 1024 * 1024
local MAX_PARTS = 10000
local DEFAULT_PART = 9 * 1024 * 1024   -- the official SDKs' default
local VERSION = 1

local function obs() return require "hwcloud.obs" end
local send_parts -- defined below upload_file

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  local pwd = os.getenv("PWD")
  if not pwd then
    local p = io.popen and io.popen("pwd")
    pwd = p and p:read("*l")
    if p then p:close() end
  end
  return (pwd or ".") .. "/" .. path
end

local function read_checkpoint(path)
  local f = io.open(path, "rb")
  if not f then return nil end -- none yet: a fresh upload
  local s = f:read("*a")
  f:close()
  local doc = cjson.decode(s)
  if type(doc) ~= "table" or doc.version ~= VERSION then return false end
  return doc
end

local function write_checkpoint(path, cp)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local parts = {}
  for n, p in pairs(cp.parts) do parts[#parts + 1] = { n = n, etag = p.etag } end
  sort(parts, function(a, b) return a.n < b.n end)
  local ok, werr = f:write(cjson.encode {
    version = VERSION, bucket = cp.bucket, key = cp.key, file = cp.file, size = cp.size,
    mtime = cp.mtime, part_size = cp.part_size, upload_id = cp.upload_id, parts = parts,
  })
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, werr or cerr
  end
  local moved, merr = os.rename(tmp, path)
  if not moved then return nil, merr end
  return true
end

-- whether a checkpoint belongs to this upload; else why not
local function mismatch(cp, want)
  for _, k in ipairs { "bucket", "key", "file", "size", "part_size" } do
    if cp[k] ~= want[k] then return k end
  end
  if cp.mtime ~= want.mtime then return "mtime" end
  if type(cp.upload_id) ~= "string" or cp.upload_id == "" then return "upload_id" end
  return nil
end

local function part_count(size, part_size)
  if size == 0 then return 1 end
  return ceil(size / part_size)
end

local function initiate(o, s, e, req)
  local c, err = o.send(s, e, { op = "upload_file", method = "POST", bucket = req.bucket,
    key = req.key, query = { uploads = true }, headers = o.put_headers(s, req), body = "" })
  if not c then return nil, err end
  local doc = xml.parse(c.body)
  local id = doc and xml.text(doc, "UploadId")
  if not id or id == "" then
    return nil, errors.decode("no UploadId in the answer to InitiateMultipartUpload", c.status,
      c.headers, { service = "obs", operation = "upload_file" })
  end
  return id
end

local function upload_part(o, s, e, cp, n)
  local offset = (n - 1) * cp.part_size
  local length = cp.size - offset
  if length > cp.part_size then length = cp.part_size end
  local c, err = o.send(s, e, { op = "upload_file", method = "PUT", bucket = cp.bucket,
    key = cp.key, query = { partNumber = tostring(n), uploadId = cp.upload_id },
    upload = { file = cp.file, offset = offset, length = length }, idempotent = true,
    checksum = cp.checksum })
  if not c then return nil, err end
  local etag = o.unquote(c.headers.etag)
  if etag and c.file_md5 and etag:match("^%x+$") and #etag == 32 and etag:lower() ~= c.file_md5 then
    return nil, errors.new("decode", { message = "part " .. n .. "'s ETag does not match the "
      .. "MD5 of what was sent", service = "obs", operation = "upload_file" })
  end
  return etag or ""
end

local function complete(o, s, e, cp, total)
  local lines = { "<CompleteMultipartUpload>" }
  for n = 1, total do
    lines[#lines + 1] = "<Part><PartNumber>" .. n .. "</PartNumber><ETag>\""
      .. xml.escape(cp.parts[n].etag) .. "\"</ETag></Part>"
  end
  lines[#lines + 1] = "</CompleteMultipartUpload>"
  local c, err = o.send(s, e, { op = "upload_file", method = "POST", bucket = cp.bucket,
    key = cp.key, query = { uploadId = cp.upload_id }, body = concat(lines),
    headers = { ["Content-Type"] = "application/xml" }, idempotent = true })
  if not c then return nil, err end
  local doc = xml.parse(c.body)
  if doc and doc.name == "Error" then
    c.status = 500
    return nil, o.http_error(c, "upload_file", false)
  end
  return { etag = o.unquote(doc and xml.text(doc, "ETag")), location = doc and xml.text(doc, "Location"),
           bucket = cp.bucket, key = cp.key, upload_id = cp.upload_id, parts = total,
           request_id = o.request_id(c.headers) }
end

-- the checkpoint to resume from: cp | nil (none) | nil, err (refused)
local function resume_from(o, req, want)
  if not req.checkpoint then return nil end
  local cp = read_checkpoint(req.checkpoint)
  if cp == false then
    return nil, select(2, o.invalid("upload_file", "checkpoint", req.checkpoint .. " is not a "
      .. "checkpoint of upload_file (refused: it is never overwritten)"))
  end
  if not cp then return nil end
  local why = mismatch(cp, want)
  if why then
    return nil, select(2, o.invalid("upload_file", "checkpoint", req.checkpoint .. " belongs to "
      .. "another upload (its " .. why .. " differs): refused, remove it to start afresh"))
  end
  local parts = {}
  for _, p in ipairs(cp.parts or {}) do
    if type(p) == "table" and tonumber(p.n) and type(p.etag) == "string" then
      parts[tonumber(p.n)] = { etag = p.etag }
    end
  end
  cp.parts = parts
  return cp
end

local function check(o, s, req)
  local op = "upload_file"
  local ok, err = o.check_key(op, req)
  if not ok then return nil, err end
  local ps = req.part_size or DEFAULT_PART
  if type(ps) ~= "number" or ps ~= floor(ps) or ps < MIN_PART or ps > MAX_PART then
    return o.invalid(op, "part_size", "must be a whole number of bytes from 102400 (100 KiB) to 5 GiB")
  end
  local conc = req.concurrency or 1
  if type(conc) ~= "number" or conc ~= floor(conc) or conc < 1 or conc > 64 then
    return o.invalid(op, "concurrency", "must be a whole number from 1 to 64")
  end
  if req.checkpoint ~= nil and (type(req.checkpoint) ~= "string" or req.checkpoint == "") then
    return o.invalid(op, "checkpoint", "must be a path")
  end
  local ck
  ck, err = o.checksum(s, op, req)
  if ck == nil then return nil, err end
  local info
  info, err = o.readable(op, "file", req.file)
  if not info then return nil, err end
  if part_count(info.size, ps) > MAX_PARTS then
    return o.invalid(op, "part_size", "makes more than 10000 parts of this file: choose a larger one")
  end
  return info, ps, conc, ck
end

-- upload_file(self, req, opts) -> {etag, parts, upload_id, ...} | nil, err
function _M.upload_file(s, req, opts)
  req = req or {}
  local o = obs()
  local info, ps, conc, ck = check(o, s, req)
  if not info then return nil, ps end
  -- the modification time as text: a JSON number would round it
  local want = { bucket = req.bucket, key = req.key, file = absolute(req.file), size = info.size,
                 mtime = string.format("%.6f", info.mtime), part_size = ps }
  local cp, cerr = resume_from(o, req, want)
  if cp == nil and cerr then return nil, cerr end
  local engine = s.engine_for(s.env)
  if engine:inside() then
    return nil, errors.validation("upload_file", "cannot run inside another client call", "obs",
      "upload_file")
  end
  if not cp then
    local id, err = engine:call(function(e) return initiate(o, s, e, req) end)
    if not id then return nil, err end
    cp = { bucket = want.bucket, key = want.key, file = want.file, size = want.size,
           mtime = want.mtime, part_size = ps, upload_id = id, parts = {} }
    if req.checkpoint then
      local ok, werr = write_checkpoint(req.checkpoint, cp)
      if not ok then
        return o.invalid("upload_file", "checkpoint", "cannot write " .. tostring(werr))
      end
    end
  end

  -- in memory only: a resumed upload checks as its own call says
  cp.checksum = ck
  local total = part_count(cp.size, ps)
  local ok, err = send_parts(o, s, engine, req, cp, total, conc, opts)
  if not ok then return nil, err end
  local res
  res, err = engine:call(function(e) return complete(o, s, e, cp, total) end)
  if not res then return nil, err end
  if req.checkpoint then os.remove(req.checkpoint) end
  return res
end

-- the parts the checkpoint does not list, `conc` at a time, each recorded
-- in the checkpoint as OBS acknowledges it: true | nil, err
-- run_parts(engine, fns, conc, p, first) -> true | nil, err: the part
-- tasks side by side; the first error a task kept (first()) wins over the
-- one the engine reports
local function run_parts(engine, fns, conc, p, first)
  local ok, results = pcall(engine.run, engine, fns, conc)
  if p then p:finish() end
  if not ok then error(results, 0) end
  for i = 1, #results do
    if results[i][2] then return nil, first() or results[i][2] end
  end
  return true
end

function send_parts(o, s, engine, req, cp, total, conc, opts)
  local todo = {}
  for n = 1, total do
    if not cp.parts[n] then todo[#todo + 1] = n end
  end
  local mode = (opts and opts.progress)
  if mode == nil then mode = s.env.cfg.progress end
  if mode == nil then mode = "auto" end
  -- a small file in one part shows no progress line
  local p = total > 1 and progress.new(mode, "upload " .. req.key, #todo, core.now, core.isatty) or nil
  local first_err
  local fns = {}
  for i, n in ipairs(todo) do
    fns[i] = function(e)
      if first_err then return nil, first_err end -- one failure stops the rest
      local etag, err = upload_part(o, s, e, cp, n)
      if p then p:step(etag == nil) end
      if not etag then
        first_err = first_err or err
        return nil, err
      end
      cp.parts[n] = { etag = etag }
      if req.checkpoint then
        local ok, werr = write_checkpoint(req.checkpoint, cp)
        if not ok then
          first_err = first_err or errors.validation("checkpoint", "cannot write " .. tostring(werr),
            "obs", "upload_file")
          return nil, first_err
        end
      end
      return true
    end
  end
  return run_parts(engine, fns, conc, p, function() return first_err end)
end

------------------------------------------------------------ download_file

-- the MD5 (hex) of a file, hashed in the core through a fixed buffer
local function file_md5(path)
  local d = core.file_digest("md5", path)
  return d and (d:gsub(".", function(c) return string.format("%02x", c:byte()) end)) or nil
end

-- one range of the object into its place in `tmp`
local function get_range(o, s, e, req, tmp, first, last, etag)
  local c, err = o.send(s, e, { op = "download_file", method = "GET", bucket = req.bucket,
    key = req.key, download = tmp, download_offset = first,
    -- a different object under the key by now: 412, never a spliced file
    headers = { Range = "bytes=" .. first .. "-" .. last, ["If-Match"] = etag and ('"' .. etag .. '"') or nil } })
  if not c then return nil, err end
  if c.status ~= 206 or (c.file_bytes or 0) ~= last - first + 1 then
    return nil, errors.new("decode", { message = string.format("bytes %d-%d: expected %d bytes "
      .. "(206), got %s (%s)", first, last, last - first + 1, tostring(c.file_bytes),
      tostring(c.status)), service = "obs", operation = "download_file" })
  end
  return true
end

local function check_download(o, s, req)
  local ok, err = o.check_key("download_file", req)
  if not ok then return nil, err end
  ok, err = o.checksum(s, "download_file", req)
  if ok == nil then return nil, err end
  ok, err = o.writable("download_file", "file", req.file)
  if not ok then return nil, err end
  local ps = req.part_size or DEFAULT_PART
  if type(ps) ~= "number" or ps ~= floor(ps) or ps < MIN_PART then
    return o.invalid("download_file", "part_size", "must be a whole number of bytes, at least 102400")
  end
  local conc = req.concurrency or 1
  if type(conc) ~= "number" or conc ~= floor(conc) or conc < 1 or conc > 64 then
    return o.invalid("download_file", "concurrency", "must be a whole number from 1 to 64")
  end
  return ps, conc
end

-- the ranges of `size` bytes, `conc` at a time, with progress
local function get_ranges(o, s, engine, req, tmp, size, ps, conc, etag, opts)
  local f, ferr = io.open(tmp, "wb") -- the parts write into it at their offsets
  if not f then return o.invalid("download_file", "file", "cannot write " .. tostring(ferr)) end
  f:close()
  local total = ceil(size / ps)
  local mode = (opts and opts.progress)
  if mode == nil then mode = s.env.cfg.progress end
  if mode == nil then mode = "auto" end
  local p = progress.new(mode, "download " .. req.key, total, core.now, core.isatty)
  local first_err
  local fns = {}
  for i = 1, total do
    fns[i] = function(e)
      if first_err then return nil, first_err end
      local first = (i - 1) * ps
      local last = first + ps - 1
      if last >= size then last = size - 1 end
      local ok, err = get_range(o, s, e, req, tmp, first, last, etag)
      if p then p:step(not ok) end
      if not ok then first_err = first_err or err end
      return ok, err
    end
  end
  return run_parts(engine, fns, conc, p, function() return first_err end)
end

function _M.download_file(s, req, opts)
  req = req or {}
  local o = obs()
  local ps, conc = check_download(o, s, req)
  if not ps then return nil, conc end
  local engine = s.engine_for(s.env)
  local tmp = req.file .. ".part"
  local meta, err = s:get_object_metadata { bucket = req.bucket, key = req.key }
  if not meta then return nil, err end
  local size = meta.content_length or 0
  local res
  if size <= ps or engine:inside() then
    res, err = s:get_object({ bucket = req.bucket, key = req.key, file = tmp, checksum = req.checksum },
      { op = "download_file" })
    if not res then
      os.remove(tmp)
      return nil, err
    end
  else
    local ok
    ok, err = get_ranges(o, s, engine, req, tmp, size, ps, conc, meta.etag, opts)
    -- a whole object's MD5 ETag, checked over the file the ranges made
    if ok and o.checksum(s, "download_file", req) and not o.etag_matches(meta.etag, file_md5(tmp)) then
      ok, err = nil, errors.new("decode", { message = "the downloaded bytes do not match the "
        .. "object's ETag", service = "obs", operation = "download_file" })
    end
    if not ok then
      os.remove(tmp)
      return nil, err
    end
    res = meta
    res.size = size
  end
  local moved, merr = os.rename(tmp, req.file)
  if not moved then
    os.remove(tmp)
    return o.invalid("download_file", "file", "cannot write " .. tostring(merr))
  end
  res.file = req.file
  return res
end

return _M
