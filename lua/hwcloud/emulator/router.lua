-- hwcloud.emulator.router: maps a method and path to an operation.

local sub, find, gmatch, match = string.sub, string.find, string.gmatch, string.match
local gsub, char, tonumber = string.gsub, string.char, tonumber

local _M = {}

local SERVICES = { "iam", "servicestage", "codeartsbuild", "asm", "rts", "workspaceapp",
                   "metadata" }

local by_length = {}     -- segment count -> list of compiled routes
local operations = {}    -- "<service>.<operation>" -> route

local function split(path)
  local segs, n = {}, 0
  for seg in gmatch(path .. "/", "([^/]*)/") do
    n = n + 1
    segs[n] = seg
  end
  return segs, n
end

local function hex_byte(h) return char(tonumber(h, 16)) end

local function decode(s)
  if not find(s, "%", 1, true) then return s end
  return (gsub(s, "%%(%x%x)", hex_byte))
end

for i = 1, #SERVICES do
  local svc = require("hwcloud.emulator.services." .. SERVICES[i])
  for j = 1, #svc.routes do
    local r = svc.routes[j]
    r.service = svc.name
    r.name = svc.name .. "." .. r.op
    local segs, n = {}, 0
    for seg in gmatch(sub(r.path, 2), "[^/]+") do
      n = n + 1
      local param = match(seg, "^{(.+)}$")
      segs[n] = param and { param = param } or { literal = seg }
    end
    r.segments = segs
    local list = by_length[n]
    if not list then list = {} by_length[n] = list end
    list[#list + 1] = r
    operations[r.name] = r
  end
end

_M.operations = operations

-- Returns route, params for `method` and the raw `path`; or nil, info where
-- info = { service =, methods = {...} } when the path exists for other
-- methods (405), or nil when it does not exist at all (404).
function _M.match(method, path)
  if sub(path, 1, 1) ~= "/" then return nil end
  path = sub(path, 2)
  if sub(path, -1) == "/" then path = sub(path, 1, -2) end
  local raw, n = split(path)
  local list = by_length[n]
  if not list then return nil end
  local segs = {}
  for i = 1, n do segs[i] = decode(raw[i]) end
  local other
  for i = 1, #list do
    local r = list[i]
    local params, ok = {}, true
    for k = 1, n do
      local want, got = r.segments[k], segs[k]
      if want.literal then
        if want.literal ~= got then ok = false break end
      elseif got == "" then
        ok = false break
      else
        params[want.param] = got
      end
    end
    if ok then
      if r.method == method then return r, params end
      if not other then other = { service = r.service, methods = {} } end
      other.methods[#other.methods + 1] = r.method
    end
  end
  return nil, other
end

return _M
