-- hwcloud.emulator.router: maps a request to one operation of one service.
--
-- Handlers (the registration interface). A stateful service is a module
-- hwcloud.emulator.services.<name> listed in SERVICES below:
--
--   return { name = "<client field>",            -- "ecs", "servicestage", ...
--            routes = { { op = "<operation>",     -- the catalog's name or alias
--                         field = "<client field>"?, -- another version's (vpc_v2)
--                         method = "POST", path = "/v1/{project_id}/cloudservers",
--                         auth = nil | "none" | "global" | "iam",
--                         body = <validate schema>?, full_request = true?,
--                         handler = function(ctx) return status, body, headers end },
--                       ... } }
--
-- ctx: method, params (path), args (query), body (decoded), project_id,
-- store (the project's state.project table), headers, now, request_id,
-- route. A handler's route is checked against the operation's description
-- (query and headers; the whole request with full_request) before it runs.
-- Ids a handler answers with (top-level id / job_id, or an object's id)
-- belong to its service from then on (state.own), which is how a request
-- naming them is routed when several services share its path.
--
-- Every other described operation (hwcloud.emulator.catalog: all service
-- versions of the catalog, their descriptions loaded at a service's first
-- request) is answered by hwcloud.emulator.generic.
--
-- Which operation answers: of the templates that fit the path, a Host
-- naming a service keeps only that service's; the most literal template
-- wins; of several services left, the one owning an id the path names,
-- else a stateful handler's, else the first in catalog order whose
-- description the request fits (the hand-described services first).

local catalog = require "hwcloud.emulator.catalog"
local described = require "hwcloud.emulator.described"
local state = require "hwcloud.emulator.state"
local services = require "hwcloud.services"

local sub, find, gmatch, match = string.sub, string.find, string.gmatch, string.match
local gsub, char, tonumber = string.gsub, string.char, tonumber
local pairs, ipairs, type, pcall, select, setmetatable, sort =
  pairs, ipairs, type, pcall, select, setmetatable, table.sort

local _M = {}

local SERVICES = { "iam", "servicestage", "codeartsbuild", "asm", "rts", "workspaceapp",
                   "metadata", "ecs", "elb", "evs", "ims",
                   "swr", "functiongraph", "codeartspipeline", "codeartsdeploy", "vpc", "eip",
                   "cce", "rds", "dcs" }
_M.SERVICES = SERVICES

local own_by_length = {}  -- segment count -> list of own routes
local own_by_shape = {}   -- "METHOD /a/{}/b" -> own route
local own_of_service = {} -- "<sdk service> METHOD /a/{}/b" -> own route
local own_by_name = {}    -- "<service>.<op>" -> own route
local built = {}          -- catalog entry -> its route, made at first use

local function hex_byte(h) return char(tonumber(h, 16)) end

local function decode(s)
  if not find(s, "%", 1, true) then return s end
  return (gsub(s, "%%(%x%x)", hex_byte))
end

local order = 0

local function add_own(r)
  local segs, shape, score, n = catalog.parse(r.path)
  local names = {}
  for seg in gmatch(sub(r.path, 2), "[^/]+") do
    names[#names + 1] = match(seg, "^{(.+)}$") or false
  end
  order = order + 1
  r.segs, r.pnames, r.score, r.order = segs, names, score, order
  local key = r.method .. " " .. shape
  own_by_shape[key] = own_by_shape[key] or r
  local skey = r.sdk_service .. " " .. key
  own_of_service[skey] = own_of_service[skey] or r
  local list = own_by_length[n]
  if not list then list = {} own_by_length[n] = list end
  list[#list + 1] = r
  own_by_name[r.name] = r
end

for i = 1, #SERVICES do
  local svc = require("hwcloud.emulator.services." .. SERVICES[i])
  for j = 1, #svc.routes do
    local r = svc.routes[j]
    r.service = svc.name
    -- a route may name another client field of its service (vpc_v2)
    r.name = (r.field or svc.name) .. "." .. r.op
    r.sdk_service = services.known(svc.name) and services.entry(svc.name).service or svc.name
    add_own(r)
  end
end
for _, list in pairs(own_by_length) do
  sort(list, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return a.order < b.order
  end)
end

-- An own route takes its operation's description at its first request:
-- the whole request's checks (full_request) or those of its query and
-- headers.
local function ready_own(r)
  if r.ready then return r end
  r.ready = true
  local field = r.field or r.service
  if not services.known(field) then return r end
  local ok, svc = pcall(services.load, field)
  local op = ok and svc and services.operation(svc, r.op)
  if not op then return r end
  if r.full_request and not r.request then
    r.request, r.json = op.request, described.is_json(op.content_type)
  elseif not r.params_request then
    r.params_request = op.request
  end
  return r
end

-- The route of a catalog entry, its service's description loaded now.
local function route_of(e)
  local r = built[e]
  if r then return r end
  -- only the service's own handler: a path other services share (ECS,
  -- EVS and IMS's jobs) stays theirs
  local own = own_of_service[e.service .. " " .. e.method .. " "
                             .. select(2, catalog.parse(e.path))]
  if own then
    built[e] = ready_own(own)
    return own
  end
  r = described.route(e)
  built[e] = r
  return r
end

-- The parameters of a path matched against a template.
local function params_of(template, segs, n)
  local params, k = {}, 0
  local want = catalog.parse(template)
  for seg in gmatch(sub(template, 2), "[^/]+") do
    k = k + 1
    local name = match(seg, "^{([^{}]+)}$")
    if k <= n then
      if name then
        params[name] = segs[k]
      elseif type(want[k]) == "table" then
        local caps = { match(segs[k], want[k].pattern) }
        for c = 1, #want[k].names do params[want[k].names[c]] = caps[c] end
      end
    end
  end
  return params
end

local function fits(want, segs, n)
  for k = 1, n do
    local w, got = want[k], segs[k]
    if type(w) == "string" then
      if w ~= got then return false end
    elseif got == "" then
      return false
    elseif w and not match(got, w.pattern) then
      return false
    end
  end
  return true
end

-- Every template of `list` that fits, of the allowed services; and the
-- methods the path takes otherwise.
local function collect(list, segs, n, method, allowed, out, other, service_of)
  if not list then return end
  for i = 1, #list do
    local r = list[i]
    if fits(r.segs, segs, n) and (not allowed or allowed[service_of(r)]) then
      if r.method == method then
        out[#out + 1] = r
      else
        other[#other + 1] = r
      end
    end
  end
end

local function own_service(r) return r.sdk_service end
local function entry_service(e) return e.service end

-- Of the fitting templates (same score), the one this request means.
local function choose(found, segs, n)
  if #found == 1 then return found[1], true end
  -- the service that made an id the path names
  for i = 1, #found do
    local r = found[i]
    local owner_of = r.sdk_service or r.service
    for k = 1, n do
      if type(r.segs[k]) ~= "string" and k > 1 then
        local owner = state.owner(segs[k])
        if owner and owner == owner_of then return r, true end
      end
    end
  end
  for i = 1, #found do
    if found[i].handler then return found[i], true end
  end
  return found[1], false
end

local function best(found)
  local top
  for i = 1, #found do
    local s = found[i].score
    if not top or s > top then top = s end
  end
  local out = {}
  for i = 1, #found do
    if found[i].score == top then out[#out + 1] = found[i] end
  end
  return out
end

-- The other operations a handler shares its method and path with (RDS's
-- create_instance and DDS's, GaussDB's...; RDS's jobs and CodeArts
-- Build's): twins, so the first whose description the request fits
-- answers, the handler first. Its own service's other operations there
-- answer generically.
local generic_of = {}
local function handler_twins(pick, top, segs, n)
  local twins
  for i = 1, #top do
    local e = top[i]
    local r
    if e.handler then
      r = e ~= pick and ready_own(e) or nil
    else
      r = route_of(e)
      if r == pick and e.op ~= pick.op then
        r = generic_of[e] or described.route(e)
        generic_of[e] = r
      end
    end
    if r and r ~= pick then
      local params = {}
      if r.handler then
        for k = 1, n do
          if r.pnames[k] then params[r.pnames[k]] = segs[k] end
        end
      else
        params = params_of(e.path, segs, n)
      end
      twins = twins or {}
      twins[#twins + 1] = { route = r, params = params }
    end
  end
  return twins
end

-- A handler's route and params, and its lazy twins when it has any: the
-- others are looked at (their descriptions loaded) only when the request
-- does not fit the handler's own.
local function handler_match(pick, top, segs, n)
  ready_own(pick)
  local params = {}
  for k = 1, n do
    if pick.pnames[k] then params[pick.pnames[k]] = segs[k] end
  end
  if #top == 1 then return pick, params end
  return pick, params, { lazy = function() return handler_twins(pick, top, segs, n) end }
end

-- Returns route, params for `method`, the raw `path` and the Host header
-- (and the twins of the same path when there are: a list, or for a
-- handler { lazy = function() -> list | nil end });
-- or nil, info where info = { service =, methods = {...} } when the path
-- exists for other methods (405), or nil when it does not exist (404).
function _M.match(method, path, host)
  if sub(path, 1, 1) ~= "/" then return nil end
  path = sub(path, 2)
  if sub(path, -1) == "/" then path = sub(path, 1, -2) end
  local segs, n = {}, 0
  if path ~= "" then
    for seg in gmatch(path .. "/", "([^/]*)/") do
      n = n + 1
      segs[n] = decode(seg)
    end
  end
  local allowed = catalog.host_services(host)
  local found, other = {}, {}
  collect(own_by_length[n], segs, n, method, allowed, found, other, own_service)
  local exact, any = catalog.candidates(n, segs[n])
  if n > 0 then
    collect(exact, segs, n, method, allowed, found, other, entry_service)
  end
  collect(any, segs, n, method, allowed, found, other, entry_service)
  if #found == 0 then
    if #other == 0 then return nil end
    local info = { service = other[1].sdk_service or other[1].service, methods = {} }
    local seen = {}
    for i = 1, #other do
      local m = other[i].method
      if not seen[m] then seen[m] = true info.methods[#info.methods + 1] = m end
    end
    return nil, info
  end
  local top = best(found)
  -- own routes first, then catalog order
  sort(top, function(a, b)
    if (a.handler ~= nil) ~= (b.handler ~= nil) then return a.handler ~= nil end
    return a.order < b.order
  end)
  local pick, decided = choose(top, segs, n)
  if pick.handler then return handler_match(pick, top, segs, n) end
  -- operations at one method and path with nothing else to tell them
  -- apart (DNS's public and private zones; a path two services have, no
  -- Host): the first whose description the request fits
  local twins
  for i = 1, #top do
    local e = top[i]
    if e ~= pick and not e.handler and (e.service == pick.service or not decided) then
      twins = twins or {}
      twins[#twins + 1] = { route = route_of(e), params = params_of(e.path, segs, n) }
    end
  end
  return route_of(pick), params_of(pick.path, segs, n), twins
end

-- An operation by name: "<service field>.<operation or alias>", as the
-- admin API takes it (faults, canned answers, counts). Its service's
-- description loads when the name is not the catalog's own.
local function lookup(name)
  if type(name) ~= "string" then return nil end
  local own = own_by_name[name]
  if own then return ready_own(own) end
  local e = catalog.entry(name)
  if e then return route_of(e) end
  local field, opname = match(name, "^([%w_]+)%.([%w_]+)$")
  if not field or not services.known(field) then return nil end
  local ok, svc = pcall(services.load, field)
  local op = ok and svc and services.operation(svc, opname)
  if not op then return nil end
  local entry = services.entry(field)
  own = own_of_service[entry.service .. " " .. op.method .. " "
                       .. select(2, catalog.parse(op.path))]
  if own then return ready_own(own) end
  local same = catalog.same_shape(op.method, op.path)
  if not same then return nil end
  for i = 1, #same do
    for _, file in ipairs(entry.files) do
      if same[i].file == file and same[i].op == op.name then return route_of(same[i]) end
    end
  end
  for i = 1, #same do
    for _, file in ipairs(entry.files) do
      if same[i].file == file then return route_of(same[i]) end
    end
  end
  return nil
end

-- router.operations[name] -> route (resolved at first use, then kept)
_M.operations = setmetatable({}, { __index = function(t, name)
  local r = lookup(name)
  if r then rawset(t, name, r) end
  return r
end })

-- The same as a function (as hwcloud.emulator.admin asks).
function _M.operation(name) return _M.operations[name] end

-- Kept for callers of the earlier router: the index is read at the first
-- request anyway.
function _M.load_all() catalog.build() end

-- A route by method and path template (a stub's target), or nil.
function _M.described_at(method, path)
  local segs, shape = catalog.parse(path)
  local _ = segs
  local own = own_by_shape[method .. " " .. shape]
  if own then return ready_own(own) end
  local same = catalog.same_shape(method, path)
  return same and route_of(same[1]) or nil
end

return _M
