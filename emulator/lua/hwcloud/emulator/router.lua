-- hwcloud.emulator.router: maps a method and path to an operation: the
-- emulator's own routes, then every described operation
-- (hwcloud.emulator.described). The most literal template wins.

local sub, find, gmatch, match = string.sub, string.find, string.gmatch, string.match
local gsub, char, tonumber = string.gsub, string.char, tonumber
local concat, sort, pairs = table.concat, table.sort, pairs

local described = require "hwcloud.emulator.described"

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

local by_shape = {}     -- "METHOD /a/{}/b" -> route, to find a described twin
local order = 0

local function add(r)
  local segs, n, shape = {}, 0, {}
  for seg in gmatch(sub(r.path, 2), "[^/]+") do
    n = n + 1
    local param = match(seg, "^{([^{}]+)}$")
    if param then
      segs[n] = { param = param }
    elseif find(seg, "{", 1, true) then
      -- parameters inside a segment (IDME's rdm_{identifier}_app)
      local names = {}
      local pattern = gsub(gsub(seg, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"), "{([^{}]+)}", function(p)
        names[#names + 1] = p
        return "(.-)"
      end)
      segs[n] = { pattern = "^" .. pattern .. "$", names = names }
      param = true
    else
      segs[n] = { literal = seg }
    end
    -- literal segments, the earlier the better, outrank parameters
    shape[n] = param and "{}" or seg
  end
  local score = {}
  for k = 1, n do score[k] = segs[k].literal and "1" or "0" end
  order = order + 1
  r.segments, r.score, r.order = segs, concat(score), order
  local key = r.method .. " /" .. concat(shape, "/")
  local twin = by_shape[key]
  if r.described and twin then
    -- same method and path (IAM's token requests differ by body only):
    -- the first route answers, faults and canned answers find it by either
    -- name
    operations[r.name] = twin
    return false
  end
  by_shape[key] = by_shape[key] or r
  local list = by_length[n]
  if not list then list = {} by_length[n] = list end
  list[#list + 1] = r
  operations[r.name] = r
  return true
end

-- The emulator's own handlers first: they win over the described routes of
-- the same operation or the same method and path.
for i = 1, #SERVICES do
  local svc = require("hwcloud.emulator.services." .. SERVICES[i])
  for j = 1, #svc.routes do
    local r = svc.routes[j]
    r.service = svc.name
    r.name = svc.name .. "." .. r.op
    add(r)
  end
end

local function add_described(described_routes, aliases)
  -- an alias of the descriptions (servicestage.show_job for show_job_info)
  -- served by an own handler answers to both names
  for alias, target in pairs(aliases) do
    local own = operations[alias] or operations[target]
    if own then
      operations[alias], operations[target] = own, own
      own.names = own.names or { own.name }
      own.names[#own.names + 1] = own.name == alias and target or alias
    end
  end
  for i = 1, #described_routes do
    local r = described_routes[i]
    local own = operations[r.name]
    if not own then
      add(r)
    elseif own.full_request and not own.request then
      -- an own handler that takes the description's checks of its whole request
      own.request, own.json = r.request, r.json
    elseif not own.described and not own.params_request then
      -- an own handler still checks the query and headers the description has
      own.params_request = r.request
    end
  end
  for _, list in pairs(by_length) do
    sort(list, function(a, b)
      if a.score ~= b.score then return a.score > b.score end
      return a.order < b.order
    end)
  end
end

local first, rest = described.fields()
add_described(described.routes(first))

-- The rest of the catalog (every other service of the official SDKs) is
-- routed from the first request the emulated services do not route, or
-- from load_all(): loading every description takes a second, which a run
-- that only uses the emulated services never pays.
local all_loaded = false
function _M.load_all()
  if all_loaded then return end
  all_loaded = true
  add_described(described.routes(rest))
  -- ecs.list_servers_details is the route of ecs_v2.list_servers_details
  for name, target in pairs(described.field_names(rest)) do
    if not operations[name] then operations[name] = operations[target] end
  end
end

_M.operations = operations

-- Returns route, params for `method` and the raw `path`; or nil, info where
-- info = { service =, methods = {...} } when the path exists for other
-- methods (405), or nil when it does not exist at all (404).
local function find_route(method, path)
  if sub(path, 1, 1) ~= "/" then return nil end
  path = sub(path, 2)
  if sub(path, -1) == "/" then path = sub(path, 1, -2) end
  local raw, n = split(path)
  if path == "" then n = 0 end -- "/" itself
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
      elseif want.pattern then
        local caps = { match(got, want.pattern) }
        if #caps == 0 then ok = false break end
        for c = 1, #want.names do params[want.names[c]] = caps[c] end
      elseif got == "" then
        ok = false break
      else
        params[want.param] = got
      end
    end
    if ok then
      if r.method == method then return r, params end
      if not other then other = { service = r.service, methods = {}, seen = {} } end
      if not other.seen[r.method] then
        other.seen[r.method] = true
        other.methods[#other.methods + 1] = r.method
      end
    end
  end
  return nil, other
end

function _M.match(method, path)
  local r, info = find_route(method, path)
  if r or all_loaded then return r, info end
  _M.load_all()
  return find_route(method, path)
end

function _M.operation(name)
  local r = operations[name]
  if r or all_loaded then return r end
  _M.load_all()
  return operations[name]
end

return _M
