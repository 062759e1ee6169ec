-- hwcloud.emulator.lifecycle: states for resources whose REST state is
-- generic (hwcloud.emulator.generic: the items live in its store, the
-- inventory's generic section seeds them, GET /_emulator/state shows them
-- there) but whose status moves as the service's does. A stateful route
-- made by handler(spec) answers as the generic route of its catalog entry
-- would, then puts each answered item's status in place: an item this
-- emulator created is `pending` until --job-seconds have passed, then
-- `ready` (`failed` when its id or name was on the fail list then); an
-- item given without a status (the inventory's) is `ready`.
--
--   spec = { entry = "<catalog name>", wrapper = "vpc", list = "vpcs",
--            pending = "CREATING", ready = "OK", failed = "ERROR",
--            create = true?, after = function(ctx, item, rec)? }
--
-- rec is the item's state record { phase =, born = }, kept per project
-- under `lifecycle` by item id; `after` may change it (a binding).

local catalog = require "hwcloud.emulator.catalog"
local described = require "hwcloud.emulator.described"
local generic = require "hwcloud.emulator.generic"
local state = require "hwcloud.emulator.state"
local shapes = require "hwcloud.emulator.shapes"

local type, pairs, ipairs, pcall, setmetatable, tostring = type, pairs, ipairs, pcall,
  setmetatable, tostring

local _M = {}

local routes = {}

local function route_of(entry)
  local r = routes[entry]
  if not r then
    r = assert(described.route(assert(catalog.entry(entry), entry)))
    routes[entry] = r
  end
  return r
end

local function records(ctx)
  local p = state.project(ctx.project_id or "global")
  local l = p.lifecycle
  if not l then l = {} p.lifecycle = l end
  return l
end

-- The status of `item` now: its record's phase ("pending", "ready",
-- "failed", or a status of its own such as a binding's) in the words of
-- `spec`, settled the first time it is seen past --job-seconds.
local function status_of(ctx, spec, item, rec)
  if not rec then
    if item.status == nil or item.status == "" then return spec.ready end
    return item.status
  end
  if rec.phase == "pending" and ctx.now - rec.born >= state.config.job_seconds then
    rec.phase = state.should_fail(item.id, item.name) and "failed" or "ready"
  end
  return spec[rec.phase] or rec.phase
end

-- The item as answered: a copy in the shape of `schema` (the stored item
-- keeps no version's words: v2 and v3 show the same VPC; and a generic
-- item has the fields its create gave), its status in place.
local function fix(ctx, spec, item, schema)
  if type(item) ~= "table" or type(item.id) ~= "string" then return item end
  local all = records(ctx)
  local rec = all[item.id]
  if spec.create and ctx.method == "POST" and not rec then
    rec = { phase = "pending", born = ctx.now }
    all[item.id] = rec
  end
  if spec.after then
    rec = spec.after(ctx, item, rec) or rec
    all[item.id] = rec
  end
  local out = schema and shapes.view(schema, item) or {}
  if not schema then
    for k, v in pairs(item) do out[k] = v end
  end
  out.status = status_of(ctx, spec, item, rec)
  return out
end

-- The handler of a route: the generic answer of spec.entry, statuses in
-- place.
function _M.handler(spec)
  return function(ctx)
    local view = setmetatable({ route = route_of(spec.entry) }, { __index = ctx })
    local ok, status, out, extra = pcall(generic.handle, view)
    if not ok then error("generic answer of " .. spec.entry .. ": " .. tostring(status)) end
    if type(out) == "table" and status < 300 then
      local fields = type(view.route.response) == "table" and view.route.response.fields or {}
      if spec.wrapper then
        out[spec.wrapper] = fix(ctx, spec, out[spec.wrapper], fields[spec.wrapper])
      end
      local list = spec.list and out[spec.list]
      if type(list) == "table" then
        local items = fields[spec.list] and fields[spec.list].items
        for i, item in ipairs(list) do list[i] = fix(ctx, spec, item, items) end
      end
    end
    return status, out, extra
  end
end

return _M
