-- hwcloud.emulator.util: JSON, time, identifiers and the response helpers
-- shared by the emulator's handlers.

local cjson = require "cjson.safe"
local crypto = require "hwcloud.emulator.crypto"

local ngx = ngx
local type, pairs, tostring, floor = type, pairs, tostring, math.floor
local find, gsub, sub, format, byte, match =
  string.find, string.gsub, string.sub, string.format, string.byte, string.match
local os_date, io_open = os.date, io.open
local concat = table.concat
local random_hex = crypto.random_hex

local _M = {}

_M.null = cjson.null

-- lua-cjson 2.1.0 encodes an empty table as {}; arrays that may be empty
-- hold this marker instead, turned into [] after encoding.
local EMPTY_ARRAY_MARK = "\1hwcloudemulatoremptyarray\1"
local EMPTY_ARRAY_JSON = cjson.encode(EMPTY_ARRAY_MARK)
local EMPTY_ARRAY_PATTERN = gsub(EMPTY_ARRAY_JSON, "%p", "%%%0")
_M.EMPTY_ARRAY = EMPTY_ARRAY_MARK

-- Returns `list`, or the empty-array marker when it has no element.
function _M.array(list)
  if list[1] == nil then return EMPTY_ARRAY_MARK end
  return list
end

function _M.encode(value)
  local s = cjson.encode(value)
  if s and find(s, EMPTY_ARRAY_JSON, 1, true) then
    s = gsub(s, EMPTY_ARRAY_PATTERN, "[]")
  end
  return s
end

-- A decoder that refuses NaN, Infinity and hex numbers; numbers that
-- overflow to infinity (1e999) are refused after decoding. What is stored
-- must encode back: one non-finite number would make every later listing
-- of the project fail.
local strict = cjson.new()
strict.decode_invalid_numbers(false)
local huge = math.huge

local function finite(v, depth)
  local t = type(v)
  if t == "number" then return v == v and v ~= huge and v ~= -huge end
  if t ~= "table" then return true end
  if depth > 1000 then return false end
  for k, x in pairs(v) do
    if not finite(k, depth + 1) or not finite(x, depth + 1) then return false end
  end
  return true
end

-- decode(text) -> value | nil
function _M.decode(text)
  local v = strict.decode(text)
  if v == nil or not finite(v, 0) then return nil end
  return v
end

-- decode_keep_arrays(text) -> value | nil: as decode, but every empty
-- array becomes the empty-array marker, so a canned body given as JSON
-- comes back from encode() with its [] (lua-cjson would make them {}).
-- One linear pass over the text, outside strings only.
function _M.decode_keep_arrays(text)
  local out, n, i, len = {}, 0, 1, #text
  local start = 1
  while i <= len do
    local c = byte(text, i)
    if c == 34 then -- a string: skip to its closing quote
      i = i + 1
      while i <= len do
        local d = byte(text, i)
        if d == 92 then i = i + 2
        elseif d == 34 then break
        else i = i + 1 end
      end
      i = i + 1
    elseif c == 91 then -- '[': empty when only white space precedes ']'
      local j = find(text, "[^ \t\r\n]", i + 1)
      if j and byte(text, j) == 93 then
        n = n + 1
        out[n] = sub(text, start, i - 1)
        n = n + 1
        out[n] = EMPTY_ARRAY_JSON
        start = j + 1
        i = j + 1
      else
        i = i + 1
      end
    else
      i = i + 1
    end
  end
  n = n + 1
  out[n] = sub(text, start)
  return _M.decode(concat(out))
end

-- Deep copy of a decoded JSON value (so stored state never aliases a request).
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
_M.copy = copy

-- Time ---------------------------------------------------------------------

_M.now = ngx.now

-- "2024-05-01T10:20:30Z"
function _M.iso8601(t)
  return os_date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

-- "2024-05-01T10:20:30.123000Z" (IAM style, microseconds)
function _M.iso8601_micro(t)
  local secs = floor(t)
  local micros = floor((t - secs) * 1000000 + 0.5)
  if micros > 999999 then micros = 999999 end
  return os_date("!%Y-%m-%dT%H:%M:%S", secs) .. format(".%06dZ", micros)
end

-- Days since 1970-01-01 of a proleptic Gregorian date.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Parses X-Sdk-Date (YYYYMMDDTHHMMSSZ, UTC) into epoch seconds.
function _M.parse_sdk_date(s)
  if type(s) ~= "string" or #s ~= 16 then return nil end
  local y, mo, d, h, mi, se = match(s, "^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  y, mo, d, h, mi, se = y + 0, mo + 0, d + 0, h + 0, mi + 0, se + 0
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
end

-- Identifiers --------------------------------------------------------------

function _M.request_id()
  return random_hex(16)
end

function _M.uuid4()
  local h = random_hex(16)
  local variant = ({ "8", "9", "a", "b" })[(byte(h, 17) % 4) + 1]
  return sub(h, 1, 8) .. "-" .. sub(h, 9, 12) .. "-4" .. sub(h, 14, 16) .. "-"
    .. variant .. sub(h, 18, 20) .. "-" .. sub(h, 21, 32)
end

-- A decimal string of `n` digits that does not start with 0.
function _M.digits(n)
  local raw = crypto.random_bytes(n)
  local out = { tostring(byte(raw, 1) % 9 + 1) }
  for i = 2, n do out[i] = tostring(byte(raw, i) % 10) end
  return concat(out)
end

_M.random_hex = random_hex

-- The exact request body bytes ("" when there is none).
function _M.request_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if file then
    local f = io_open(file, "rb")
    if f then
      body = f:read("*a")
      f:close()
      return body
    end
  end
  return ""
end

-- Responses ----------------------------------------------------------------

-- Sends a complete response and ends the request. `body` is a table (encoded
-- as JSON), a string (sent as is) or nil (no body).
function _M.send(status, body, headers)
  ngx.status = status
  if headers then
    for k, v in pairs(headers) do ngx.header[k] = v end
  end
  if body ~= nil then
    if body == EMPTY_ARRAY_MARK then
      body = "[]"
    elseif type(body) ~= "string" then
      body = _M.encode(body)
    end
    ngx.header["Content-Length"] = #body
    ngx.print(body)
  elseif status ~= 204 and status ~= 304 then
    ngx.header["Content-Length"] = 0
  end
  return ngx.exit(ngx.OK)
end

return _M
