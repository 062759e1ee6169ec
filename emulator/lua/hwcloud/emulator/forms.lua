-- hwcloud.emulator.forms: request bodies that are not JSON, read into the
-- table the described checks take.
--
--   multipart/form-data                 each part by its name: text as a
--                                       string, a part with a filename as a
--                                       file part (validate.file_part:
--                                       filename, content_type, size, md5)
--   application/x-www-form-urlencoded   name=value pairs, decoded
--
-- Text arrives as text: a field its description types as a number, a
-- boolean or JSON is read as one, so the checks see what was meant.

local validate = require "hwcloud.emulator.validate"
local util = require "hwcloud.emulator.util"

local type, tonumber, pairs = type, tonumber, pairs
local find, sub, lower, match, gsub, char = string.find, string.sub, string.lower,
  string.match, string.gsub, string.char

local _M = {}

-- kind(content_type) -> "multipart" | "form" | nil
function _M.kind(ct)
  if type(ct) ~= "string" then return nil end
  ct = lower(ct)
  if find(ct, "^multipart/form%-data") then return "multipart" end
  if find(ct, "^application/x%-www%-form%-urlencoded") then return "form" end
  return nil
end

-- a text value read as its field's type says
local function typed(f, v)
  local t = f and f.type
  if t == "integer" or t == "number" then return tonumber(v) or v end
  if t == "boolean" then
    if v == "true" then return true elseif v == "false" then return false end
    return v
  end
  if t == "object" or t == "array" or t == "map" or t == "any" or (f and f.ref) then
    local d = util.decode(v)
    if d ~= nil then return d end
  end
  return v
end

local function md5_hex(data)
  return ngx.md5(data)
end

-- multipart(content_type, body, fields) -> table | nil, why
local function multipart(ct, body, fields)
  local b = match(ct, '[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"')
    or match(ct, "[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
  if not b then return nil, "multipart body without a boundary" end
  local delim = "--" .. b
  local out = {}
  local pos = find(body, delim, 1, true)
  if pos ~= 1 then return nil, "multipart body does not start with its boundary" end
  pos = pos + #delim
  while true do
    if sub(body, pos, pos + 1) == "--" then return out end
    if sub(body, pos, pos + 1) ~= "\r\n" then return nil, "malformed multipart boundary line" end
    pos = pos + 2
    local he = find(body, "\r\n\r\n", pos, true)
    if not he then return nil, "multipart part without a blank line after its headers" end
    local head = sub(body, pos, he + 1)
    local nxt = find(body, "\r\n" .. delim, he + 4, true)
    if not nxt then return nil, "multipart body without its closing boundary" end
    local data = sub(body, he + 4, nxt - 1)
    local name, filename, pct
    for line in head:gmatch("([^\r\n]+)") do
      local k, v = match(line, "^([^:]+):%s*(.*)$")
      k = k and lower(k)
      if k == "content-disposition" then
        name = match(v, '[; ]name="([^"]*)"')
        filename = match(v, 'filename="([^"]*)"')
      elseif k == "content-type" then
        pct = v
      end
    end
    if not name then return nil, "multipart part without a name" end
    if filename then
      out[name] = validate.file_part { filename = filename, content_type = pct, size = #data,
                                       md5 = md5_hex(data) }
    else
      out[name] = typed(fields and fields[name], data)
    end
    pos = nxt + 2 + #delim
  end
end

local function unescape(s)
  s = gsub(s, "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

local function urlencoded(body, fields)
  local out = {}
  for pair in body:gmatch("[^&]+") do
    local k, v = match(pair, "^([^=]*)=?(.*)$")
    k = unescape(k)
    out[k] = typed(fields and fields[k], unescape(v))
  end
  return out
end

-- parse(content_type, body, fields) -> table | nil, why. fields: the
-- operation's request fields (their types).
function _M.parse(ct, body, fields)
  local k = _M.kind(ct)
  if k == "multipart" then return multipart(ct, body, fields) end
  if k == "form" then return urlencoded(body, fields) end
  return nil, "not a form"
end

-- The last form each operation received (GET /_emulator/forms): its
-- fields, a file part as {filename, content_type, size, md5}.
local received = {}

function _M.note(operation, t)
  local out = {}
  for name, v in pairs(t) do
    if validate.json_type(v) == "file" then
      out[name] = { filename = v.filename, content_type = v.content_type, size = v.size, md5 = v.md5 }
    else
      out[name] = v
    end
  end
  received[operation] = out
end

function _M.received() return received end
function _M.reset() received = {} end

return _M
