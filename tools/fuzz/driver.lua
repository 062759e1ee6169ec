-- tools/fuzz/driver.lua: what one fuzz input does to the C core. The input
-- bytes seed a small PRNG that draws a schema, a request that mostly fits
-- it (and sometimes does not: wrong types, NaN, huge numbers, odd bytes,
-- deep or self-referencing tables), signing inputs and a GC mode; the core
-- builds, conforms and signs them; the input itself is also
-- decoded as JSON and parsed as a response head. An invariant that does
-- not hold raises, and the harness aborts: every body the core accepts
-- must be valid JSON that decodes back to the request's body fields, every
-- path must be a clean origin-form target, signing must be deterministic,
-- core.decode must agree with lua-cjson on what both take and read back
-- what it gave, re-encoded, and a parsed head must be well formed.
--
-- Returns one(data).

local core = require "hwcloud.core"
local prepare = require("hwcloud.services").prepare
local marshal_build = require("hwcloud.marshal").build
local cjson = require("cjson.safe").new()
cjson.decode_max_depth(1000)

local byte, char, concat = string.byte, string.char, table.concat
local huge = math.huge

-- xorshift32 over the input: deterministic for one input
local function prng(data)
  local s = 2463534242
  for i = 1, #data do s = ((s ~ byte(data, i)) * 16777619) & 0xffffffff end
  if s == 0 then s = 1 end
  local pos = 0
  return function(n)
    pos = pos + 1
    local b = byte(data, (pos - 1) % (#data > 0 and #data or 1) + 1) or 0
    s = s ~ ((s << 13) & 0xffffffff)
    s = s ~ (s >> 17)
    s = s ~ ((s << 5) & 0xffffffff)
    local v = (s ~ (b * 2654435761)) & 0xffffffff
    return v % n
  end
end

local TYPES = { "string", "integer", "number", "boolean", "array", "object", "any" }
local NAMES = { "a", "b", "name", "id", "spec", "x_y", "Ünï", "with space", "k9", "" }

local function gen_schema(r, depth)
  local t = TYPES[r(#TYPES) + 1]
  if depth > 3 and (t == "array" or t == "object") then t = "string" end
  local s = { type = t }
  if r(4) == 0 then s.required = true end
  if t == "string" and r(5) == 0 then s.enum = { "A", "B", "ĉ" } end
  if t == "array" then s.items = gen_schema(r, depth + 1) end
  if t == "object" and r(3) ~= 0 then
    s.fields = {}
    for _ = 1, r(4) + 1 do s.fields[NAMES[r(#NAMES - 1) + 1]] = gen_schema(r, depth + 1) end
  end
  return s
end

local function gen_string(r)
  local n = r(4) == 0 and r(300) or r(12)
  local out = {}
  for i = 1, n do
    local k = r(10)
    if k == 0 then out[i] = char(r(256))
    elseif k == 1 then out[i] = "é"
    elseif k == 2 then out[i] = "\0"
    else out[i] = char(97 + r(26)) end
  end
  return concat(out)
end

local WEIRD_NUMBERS = { 0 / 0, huge, -huge, 2 ^ 63, -2 ^ 63, 2 ^ 53 + 1, 1e308, -0.0, 5e-324,
                        math.maxinteger, math.mininteger }

local gen_value
local function gen_any(r, depth)
  local k = r(7)
  if k == 0 then return gen_string(r) end
  if k == 1 then return r(2000) - 1000 end
  if k == 2 then return (r(100000) - 50000) / 7 end
  if k == 3 then return r(2) == 0 end
  if k == 4 and depth < 6 then
    local t = {}
    for i = 1, r(4) do t[i] = gen_any(r, depth + 1) end
    return t
  end
  if k == 5 and depth < 6 then
    local t = {}
    for _ = 1, r(4) do t[NAMES[r(#NAMES) + 1]] = gen_any(r, depth + 1) end
    return t
  end
  return cjson.null
end

-- a value for schema s; `bad` in 1/8 of the draws: anything at all
gen_value = function(r, s, depth)
  if r(8) == 0 then
    local k = r(6)
    if k == 0 then return WEIRD_NUMBERS[r(#WEIRD_NUMBERS) + 1] end
    if k == 1 then
      local t = {}
      t[1] = t -- a cycle
      t.self = t
      return t
    end
    if k == 2 then
      local deep = {}
      local cur = deep
      for _ = 1, 300 do cur.x = {}; cur = cur.x end
      return deep
    end
    if k == 3 then return { [1] = 1, [3] = 3 } end -- sparse
    if k == 4 then return { 1, 2, x = 3 } end      -- mixed
    return gen_any(r, depth)
  end
  local t = s.type
  if t == "string" then
    if s.enum and r(2) == 0 then return s.enum[r(#s.enum) + 1] end
    return gen_string(r)
  elseif t == "integer" then return r(1 << 20) - (1 << 19)
  elseif t == "number" then return (r(1 << 20) - (1 << 19)) / 16
  elseif t == "boolean" then return r(2) == 0
  elseif t == "array" then
    local a = {}
    for i = 1, r(5) do a[i] = gen_value(r, s.items, depth + 1) end
    return a
  elseif t == "object" then
    local o = {}
    if s.fields then
      for name, sub in pairs(s.fields) do
        if sub.required or r(3) ~= 0 then o[name] = gen_value(r, sub, depth + 1) end
      end
    else
      for _ = 1, r(3) do o[NAMES[r(#NAMES) + 1]] = gen_any(r, depth + 1) end
    end
    return o
  end
  return gen_any(r, depth)
end

-- JSON equality of what went in and what came back: integral numbers
-- compare by value, an empty table matches [] or {}.
-- numbers within a relative tol (default 1e-15)
local function same(a, b, depth, tol)
  if depth > 400 then return false end
  if a == cjson.null or b == cjson.null then return a == b end
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then
    if a ~= a then return false end
    return a == b or math.abs(a - b) <= math.abs(a) * (tol or 1e-15)
  end
  if ta ~= tb then return false end
  if ta ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k], depth + 1, tol) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function check(cond, what, ...)
  if not cond then
    error("fuzz invariant broken: " .. what .. " " .. concat({ ... }, " "), 0)
  end
end

local GC_MODES = {
  function() collectgarbage("incremental", 100, 100) end,
  function() collectgarbage("incremental", 1, 1000) end, -- collect all the time
  function() collectgarbage("generational", 1, 10) end,
  function() collectgarbage("incremental", 200, 200) end,
  function() collectgarbage("stop") end,
}

-- a refusal names a field and a rule in words
local function refused(field, msg)
  check(type(field) == "string" and type(msg) == "string", "a refusal without field or message")
end

local function build_case(r)
  local fields, path = {}, { "/v1" }
  local n = r(5) + 1
  for i = 1, n do
    local name = "f" .. i
    local s = gen_schema(r, 1)
    local loc = r(4)
    if loc == 0 and (s.type == "string" or s.type == "integer") then
      s.location = "path"
      s.required = true
      path[#path + 1] = "/{" .. name .. "}"
    elseif loc == 1 and s.type ~= "object" then
      s.location = "query"
    end
    fields[name] = s
  end
  if r(3) == 0 then path[#path + 1] = "/{project_id}" end
  local op = { method = (r(2) == 0) and "POST" or "GET", path = concat(path),
               request = prepare({ type = "object", fields = fields }) }
  local req = gen_value(r, op.request, 0)
  if type(req) ~= "table" then req = {} end
  local pid = (r(4) == 0) and gen_string(r) or "p1"
  -- through hwcloud.marshal, so a refusal is worded as a call words it
  local ok, p, body, msg = pcall(marshal_build, op, req, pid)
  if not ok then return end -- a refusal by raising is fine; no crash is the point
  if p == nil then return refused(body, msg) end -- a validation error
  check(type(p) == "string" and p:sub(1, 1) == "/", "path is not origin-form", p)
  check(not p:find("[%s%c#]"), "path has raw bytes", p)
  if body ~= nil then
    local doc, derr = cjson.decode(body)
    check(doc ~= nil, "body is not JSON", tostring(derr))
    local expect = {}
    for name, s in pairs(fields) do
      if s.location == nil or s.location == "body" then expect[name] = req[name] end
    end
    if next(expect) ~= nil or next(doc) ~= nil then
      check(same(expect, doc, 0) or same(doc, expect, 0), "body does not decode back")
    end
    check(same(core.decode(body), doc, 0), "core.decode and lua-cjson read the body apart")
    -- conform must accept what came back, whatever it is
    require("hwcloud.services").conform(op.request, doc)
  end
end

local function sign_case(r)
  local url = "https://" .. (r(2) == 0 and "svc.cn-north-4.example.com" or gen_string(r))
    .. "/" .. gen_string(r) .. (r(2) == 0 and ("?" .. gen_string(r) .. "=" .. gen_string(r)) or "")
  local h = { ["X-Sdk-Date"] = "20260115T083000Z" }
  for _ = 1, r(4) do h[gen_string(r)] = gen_string(r) end
  local body = r(2) == 0 and gen_string(r) or nil
  local method = ({ "GET", "POST", "PUT", "DELETE", gen_string(r) })[r(5) + 1]
  local token = r(3) == 0 and gen_string(r) or nil
  local function go(checked)
    local copy = {}
    for k, v in pairs(h) do copy[k] = v end
    return core.sign(method, url, copy, body, "AKFUZZ", gen_string(prng("sk")) .. "sk", token,
                     { "User-Agent: fuzz" }, checked)
  end
  for _, checked in ipairs { false, true } do
    local out1, field = go(checked)
    local out2 = go(checked)
    check((out1 == nil) == (out2 == nil), "signing is not deterministic (refused once)")
    if out1 then
      -- the list's last line, or (checked) the Authorization value itself
      local a1, a2 = out1, out2
      if not checked then
        check(out1[1] == "User-Agent: fuzz", "the prefix is not first")
        a1, a2 = out1[#out1]:match("^Authorization: (.*)$"), out2[#out2]:match("^Authorization: (.*)$")
      end
      check(a1 ~= nil and a1 == a2, "signing is not deterministic")
      check(#(a1:match("Signature=(%x+)$") or "") == 64, "bad signature shape", a1)
    else
      check(type(field) == "string", "a refusal without a field")
    end
  end
  -- the other algorithms on fuzzed keys and scope
  core.sign("GET", "https://h/", nil, gen_string(r), "AK", "SK", nil, nil, nil, "SDK-HMAC-SM3")
  core.sign("GET", "https://h/", nil, nil, "AK", "SK", nil, nil, nil, "V11-HMAC-SHA256", gen_string(r))
end

-- the input as an answer's text
local function decode_case(data)
  local v, info = core.decode(data)
  if v == nil then
    check(type(info) == "string" and info:find(" at byte %d+$") ~= nil, "decode error", tostring(info))
    return
  end
  check(math.type(info) == "integer" and info >= 0, "decode count", tostring(info))
  local theirs = cjson.decode(data)
  if theirs ~= nil then check(same(v, theirs, 0), "core.decode and lua-cjson differ") end
  local text = cjson.encode(v)
  -- (lua-cjson writes numbers with 14 significant digits)
  if text then check(same(core.decode(text), v, 0, 1e-13), "core.decode does not read back its value") end
end

-- the input as a response head (the cosocket transport's parser)
local function head_case(data)
  local status, version, headers, nxt = core.parse_head(data, 1, 8192, 4096, 50)
  if status == nil or status == false then
    check(status == nil or version ~= nil, "head refusal without a message")
    return
  end
  check(status >= 100 and status <= 999 and #version == 3, "bad head status", tostring(status))
  check(type(headers) == "table" and nxt > 1 and nxt <= #data + 1, "bad head result")
  for k, v in pairs(headers) do
    check(k == k:lower() and not k:find(":", 1, true) and not v:find("\n", 1, true),
      "bad header", k)
  end
end

return function(data)
  local r = prng(data)
  decode_case(data)
  head_case(data)
  GC_MODES[r(#GC_MODES) + 1]()
  for _ = 1, r(3) + 1 do
    if r(3) == 0 then sign_case(r) else build_case(r) end
  end
  collectgarbage("restart")
  if r(16) == 0 then collectgarbage("collect") end
end
