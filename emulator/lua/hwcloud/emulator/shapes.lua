-- hwcloud.emulator.shapes: the answers of stateful handlers in the shape
-- their operations' descriptions give. A handler keeps a resource as a
-- plain record; its view is the description's object (every required
-- field present and typed, as hwcloud.emulator.generic synthesizes it)
-- with the record's fields in place. Fields named "_" and a letter
-- (_job, _created) are the emulator's own and never shown (IMS's own
-- fields start with two: __imagetype).

local services = require "hwcloud.services"
local util = require "hwcloud.emulator.util"
local generic = require "hwcloud.emulator.generic"
local inventory = require "hwcloud.emulator.inventory"

local pairs, ipairs, type, tostring, find, gmatch = pairs, ipairs, type, tostring, string.find,
  string.gmatch

local _M = {}

local cache = {}

-- The schema at `path` (dotted field names) of operation `op`'s answer of
-- service `field` ("elb", "evs_v2"), its description loaded at first use.
function _M.schema(field, op, path)
  local key = field .. "." .. op .. ":" .. (path or "")
  local s = cache[key]
  if s ~= nil then return s end
  local svc = assert(services.load(field))
  s = assert(services.operation(svc, op), op).response
  for name in gmatch(path or "", "[^.]+") do
    s = s and s.fields and s.fields[name]
    if s and s.type == "array" then s = s.items end
  end
  cache[key] = s or false
  return s
end

-- Empty lists of `v` where `schema` has arrays become JSON arrays.
local function arrays(v, schema)
  local fields = type(schema) == "table" and schema.fields
  if not fields or type(v) ~= "table" then return v end
  for name, f in pairs(fields) do
    local x = v[name]
    if f.type == "array" and type(x) == "table" then
      if x[1] == nil then
        v[name] = util.array(x)
      elseif type(f.items) == "table" and f.items.fields then
        for _, item in ipairs(x) do arrays(item, f.items) end
      end
    elseif f.type == "object" and type(x) == "table" then
      arrays(x, f)
    end
  end
  return v
end

local matches

-- The view of record `rec` as `schema`'s object. A record value outside
-- its field's enum in this schema (another version's word: EIP v2's type
-- "5_bgp" where v3's is "EIP") keeps the synthesized one.
function _M.view(schema, rec)
  local v = generic.synth(schema, 1)
  if type(v) ~= "table" then v = {} end
  local fields = type(schema) == "table" and schema.fields or {}
  for k, x in pairs(rec) do
    local f = fields[k]
    local foreign = f and f.enum and type(x) ~= "table" and not matches(x, f.enum)
    if (type(k) ~= "string" or not find(k, "^_%a")) and not foreign then v[k] = util.copy(x) end
  end
  return arrays(v, schema)
end

matches = function(v, want)
  local got = v
  if type(got) == "table" or got == nil then return false end
  got = tostring(got)
  if type(want) == "table" then
    for _, w in ipairs(want) do if tostring(w) == got then return true end end
    return false
  end
  return tostring(want) == got
end

local PAGING = { marker = true, limit = true, page_reverse = true, offset = true,
                 enterprise_project_id = true }

-- The views that pass the query's filters (a query field naming a plain
-- field of the view keeps the items equal to it, or to one of its
-- values), a page of them after `marker` (`limit` at most), and the
-- page_info ELB and VPC v3 lists carry. `recs` (the records of the views,
-- in order) has fields to filter by that the views do not show. Returns
-- nil, message for a marker that is no item's id.
function _M.page(views, args, recs)
  local picked = {}
  for i, v in ipairs(views) do
    local ok = true
    for k, want in pairs(args) do
      local x = v[k]
      -- a field the record has and its view shows otherwise (a listener's
      -- loadbalancer_id is its loadbalancers list)
      if x == nil and recs then x = recs[i][k] end
      if not PAGING[k] and x ~= nil and type(x) ~= "table" and not matches(x, want) then
        ok = false
        break
      end
    end
    if ok then picked[#picked + 1] = v end
  end
  local q = { limit = args.limit, marker = args.marker }
  if type(q.marker) == "table" then q.marker = q.marker[1] end
  if q.marker == "" then q.marker = nil end
  local page, err = inventory.page(picked, q, { marker = true })
  if not page then return nil, err end
  local last = page[#page]
  local info = { current_count = #page, previous_marker = page[1] and page[1].id or "" }
  if last and picked[#picked] ~= last then info.next_marker = last.id end
  return util.array(page), info, #picked
end

return _M
