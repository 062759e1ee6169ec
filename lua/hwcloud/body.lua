-- hwcloud.body: the request bodies that are not JSON, as the official SDKs
-- send them.
--
--   multipart/form-data   the text fields as parts (names sorted), then the
--                         file parts; a file is given as
--                           { path = "FILE" [, filename =, content_type =] }
--                           { data = "BYTES" [, filename =, content_type =] }
--                         and a path is streamed from disk as it is sent:
--                         the body is a list of pieces (strings and spans
--                         of files) with its length known (Content-Length,
--                         no chunking). filename defaults to the path's last
--                         part (the field's name for data); a part has a
--                         Content-Type only when content_type is given (as
--                         the Python SDK sends it).
--   application/x-www-form-urlencoded
--                         name=value pairs joined by "&", percent-encoded by
--                         the C core's one encoder (the one of paths and
--                         queries), a space as "+".
-- A text field that is a table is sent as its JSON; a boolean as
-- true/false. The body is not signed: like the official SDKs, such a
-- request carries X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD (hwcloud.call).

local type, pairs, tostring = type, pairs, tostring
local concat, sort = table.concat, table.sort
local format, byte, gsub, lower, find, match = string.format, string.byte, string.gsub,
  string.lower, string.find, string.match
local cjson = require "cjson.safe"
local null = cjson.null
-- the sorted field names the C core wants on every object schema
local prepare_schema = require("hwcloud.services").prepare

local _M = {}

-- kind(content_type) -> "multipart" | "form" | nil
function _M.kind(ct)
  if type(ct) ~= "string" then return nil end
  ct = lower(ct)
  if find(ct, "^multipart/form%-data") then return "multipart" end
  if find(ct, "^application/x%-www%-form%-urlencoded") then return "form" end
  return nil
end

-- The body fields of an operation (no location), names sorted, and which
-- of them are files; made once per operation.
local function layout(op)
  local l = op.form_layout
  if l then return l end
  local texts, files = {}, {}
  local fields = op.request and op.request.fields or {}
  for name, f in pairs(fields) do
    if f.location == nil then
      if f.type == "file" then files[#files + 1] = name else texts[#texts + 1] = name end
    end
  end
  sort(texts)
  sort(files)
  -- what the C core checks: a file field as a string (its stand-in)
  local check = {}
  for k, v in pairs(op) do check[k] = v end
  local cfields = {}
  for name, f in pairs(fields) do
    if f.type == "file" then
      cfields[name] = { type = "string", required = f.required }
    else
      cfields[name] = f
    end
  end
  check.request = prepare_schema({ type = "object", fields = cfields })
  check.form_layout = nil
  -- the urlencoded body: the text fields as the query of a stand-in path,
  -- so the C core's encoder writes them
  local qfields = {}
  for i = 1, #texts do qfields[texts[i]] = { type = "string", location = "query" } end
  local query = { name = op.name, method = "POST", path = "/",
                  request = prepare_schema({ type = "object", fields = qfields }) }
  l = { texts = texts, files = files, check = check, query = query }
  op.form_layout = l
  return l
end

local function basename(path)
  return match(path, "([^/\\]+)$") or path
end

-- a file field's value checked, its file looked at: spec | nil, rule
local function file_of(v)
  if type(v) ~= "table" then
    return nil, "expected a file: { path = \"FILE\" } or { data = \"...\", filename = \"NAME\" }, got "
      .. type(v)
  end
  local path, data = v.path, v.data
  if (path == nil) == (data == nil) then
    return nil, "expected a file: one of path or data"
  end
  if v.filename ~= nil and type(v.filename) ~= "string" then return nil, "filename: expected a string" end
  if v.content_type ~= nil and type(v.content_type) ~= "string" then
    return nil, "content_type: expected a string"
  end
  if data ~= nil then
    if type(data) ~= "string" then return nil, "data: expected a string, got " .. type(data) end
    return { data = data, length = #data, filename = v.filename, content_type = v.content_type }
  end
  if type(path) ~= "string" or path == "" then return nil, "path: expected a file name" end
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read " .. tostring(err) end
  -- a directory opens on some systems: reading it is what fails
  local ok, rerr = f:read(0)
  local size = f:seek("end")
  f:close()
  if ok == nil and rerr then return nil, "cannot read " .. path .. ": " .. tostring(rerr) end
  if not size then return nil, "cannot read " .. path .. ": not a regular file" end
  return { path = path, length = size, filename = v.filename or basename(path),
           content_type = v.content_type }
end

-- the text of a text field's value
local function text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" or t == "number" then return tostring(v) end
  if v == null then return "null" end
  return cjson.encode(v) or tostring(v)
end

-- prepare(op, req) -> state | nil, field, rule: the request with its file
-- fields checked (a file that cannot be read is an error naming the field
-- and the path, before anything is sent), and what the C core checks.
-- state: { check (the op build takes), req (with stand-ins), files }
function _M.prepare(op, req)
  local l = layout(op)
  local files = {}
  local creq = req
  if #l.files > 0 then
    creq = {}
    for k, v in pairs(req) do creq[k] = v end
    for i = 1, #l.files do
      local name = l.files[i]
      local v = req[name]
      if v ~= nil and v ~= null then
        local spec, why = file_of(v)
        if not spec then return nil, name, why end
        files[name] = spec
        creq[name] = ""
      end
    end
  end
  return { check = l.check, req = creq, files = files, layout = l }
end

-- the quoted value of a part header parameter (as browsers send them)
local function quoted(s)
  return '"' .. gsub(s, '[\r\n"]', { ["\r"] = "%0D", ["\n"] = "%0A", ['"'] = "%22" }) .. '"'
end

local function boundary()
  local f = io.open("/dev/urandom", "rb")
  local raw = f and f:read(16)
  if f then f:close() end
  if not raw or #raw ~= 16 then
    local t = {}
    for i = 1, 16 do t[i] = string.char(math.random(0, 255)) end
    raw = concat(t)
  end
  return (gsub(raw, ".", function(c) return format("%02x", byte(c)) end))
end

-- multipart(state, req[, b]) -> pieces, length, content_type. pieces: a
-- list of strings and { path =, offset = 0, length = } spans; b: the
-- boundary (a random one by default).
function _M.multipart(st, req, b)
  b = b or boundary()
  local l = st.layout
  local pieces, n, length, pending = {}, 0, 0, {}
  local function add(s) pending[#pending + 1] = s end
  local function flush()
    if #pending > 0 then
      local s = concat(pending)
      n = n + 1
      pieces[n] = s
      length = length + #s
      pending = {}
    end
  end
  for i = 1, #l.texts do
    local name = l.texts[i]
    local v = req[name]
    if v ~= nil then
      add("--" .. b .. "\r\nContent-Disposition: form-data; name=" .. quoted(name) .. "\r\n\r\n")
      add(text(v))
      add("\r\n")
    end
  end
  for i = 1, #l.files do
    local name = l.files[i]
    local spec = st.files[name]
    if spec then
      -- no Content-Type unless given, as the Python SDK sends a file part
      add("--" .. b .. "\r\nContent-Disposition: form-data; name=" .. quoted(name)
        .. "; filename=" .. quoted(spec.filename or name) .. "\r\n"
        .. (spec.content_type and "Content-Type: " .. spec.content_type .. "\r\n" or "")
        .. "\r\n")
      if spec.data then
        add(spec.data)
      else
        flush()
        n = n + 1
        pieces[n] = { path = spec.path, offset = 0, length = spec.length }
        length = length + spec.length
      end
      add("\r\n")
    end
  end
  add("--" .. b .. "--\r\n")
  flush()
  return pieces, length, "multipart/form-data; boundary=" .. b
end

-- urlencoded(state, req, build, pid) -> body | nil, field, message
-- (build: hwcloud.marshal.build)
function _M.urlencoded(st, req, build, pid)
  local l = st.layout
  local vals = {}
  for i = 1, #l.texts do
    local v = req[l.texts[i]]
    if v ~= nil and v ~= null then vals[l.texts[i]] = text(v) end
  end
  local path, field, msg = build(l.query, vals, pid)
  if not path then return nil, field, msg end
  -- a space is "+" in a form (as the official SDK writes it)
  return (gsub(match(path, "^/%?(.*)$") or "", "%%20", "+"))
end

-- concat(pieces) -> the whole body as one string (files read): for a
-- caller that must hold it (a recording transport)
function _M.concat(pieces)
  local out = {}
  for i = 1, #pieces do
    local p = pieces[i]
    if type(p) == "string" then
      out[i] = p
    else
      local f = io.open(p.path, "rb")
      if not f then return nil end
      f:seek("set", p.offset or 0)
      out[i] = f:read(p.length) or ""
      f:close()
    end
  end
  return concat(out)
end

return _M
