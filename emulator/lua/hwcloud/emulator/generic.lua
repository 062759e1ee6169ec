-- hwcloud.emulator.generic: the answer of every described operation no
-- stateful handler serves (see hwcloud.emulator.router).
--
--   REST state, inferred from the catalog: a POST to a collection that has
--   item operations (GET/PUT/PATCH/DELETE on <collection>/{id}) creates an
--   item, its id in the answer's id field (the item path's parameter name,
--   else `id`, at the top or in the object the answer wraps it in); the
--   collection's GET lists the items with the operation's paging (offset in
--   rows, page numbers, marker); the item operations show, update (merging
--   the body) and delete it; an unknown id is 404 in the service's error
--   shape. Items are kept per project, service and collection name and
--   shown by GET /_emulator/state under "generic".
--   Jobs: an answer whose description has a top-level job_id starts a job
--   of its service; the service's poll (GET .../jobs/{job_id}, or the
--   overlay's jobs.poll) shows it running, then ended (success, or failure
--   for ids on POST /_emulator/fail's list) after --job-seconds.
--   Anything else: an answer synthesized from the operation's response
--   description: every required field present with a value of its type
--   (the first of an enum), the same for the same operation every time.

local util = require "hwcloud.emulator.util"
local state = require "hwcloud.emulator.state"
local errors = require "hwcloud.emulator.errors"
local catalog = require "hwcloud.emulator.catalog"
local jobs = require "hwcloud.emulator.jobs"
local inventory = require "hwcloud.emulator.inventory"

local pairs, ipairs, type, tonumber, tostring, next = pairs, ipairs, type, tonumber, tostring, next
local find, match, upper, format = string.find, string.match, string.upper, string.format
local floor, max, min = math.floor, math.max, math.min

local null = util.null

local _M = {}

-- A value of `schema`'s type: required fields deep down; at the top the
-- lists too (empty), in the objects below the scalars, so an answer reads
-- like one.
local synth

local function synth_string(name)
  if name and (find(name, "_id$") or name == "id") then return "00000000000000000000000000000000" end
  if name and (find(name, "time$") or name == "created_at" or name == "updated_at") then
    return "2026-01-01T00:00:00Z"
  end
  return ""
end

local SCALAR = { string = true, integer = true, number = true, boolean = true }

-- Whether an object's field shows in a synthesized answer at `depth`.
local function shown(f, depth)
  if f.location and f.location ~= "body" then return false end
  if f.required then return true end
  if depth == 0 then return f.type == "array" end
  return SCALAR[f.type] ~= nil and depth < 3
end

local function synth_object(schema, depth)
  local out = {}
  local fields = schema.fields
  if fields and depth < 6 then
    for fname, f in pairs(fields) do
      if shown(f, depth) then out[fname] = synth(f, depth + 1, fname) end
    end
  end
  return out
end

local SIMPLE = { integer = 0, number = 0, boolean = false }

synth = function(schema, depth, name)
  if type(schema) ~= "table" then return null end
  local t = schema.type
  if schema.enum and schema.enum[1] ~= nil then return schema.enum[1] end
  if SIMPLE[t] ~= nil then return SIMPLE[t] end
  if t == "string" then return synth_string(name) end
  if t == "array" then return util.array({}) end
  if t == "map" then return {} end
  if t == "object" then return synth_object(schema, depth) end
  return ""
end
_M.synth = synth

local function body_fields(schema)
  return type(schema) == "table" and schema.fields or nil
end

-- The one required object a request body wraps its fields in
-- ({"vpc": {...}}).
local function request_wrapper(request)
  local fields = body_fields(request)
  if not fields then return nil end
  local found
  for name, f in pairs(fields) do
    if (not f.location or f.location == "body") and f.type == "object" and f.required then
      if found then return nil end
      found = name
    end
  end
  return found, found and fields[found]
end

-- Where an answer carries the item: the field name of its id, and the
-- object field it is wrapped in (nil: at the top). An answer whose
-- description names no id wraps it as the request does.
local function id_place(schema, id_param, request)
  local fields = body_fields(schema)
  if fields then
    for _, name in ipairs { id_param or "id", "id" } do
      if fields[name] and fields[name].type ~= "object" then return name, nil end
    end
    for _, wrapper in ipairs(schema.order or {}) do
      local sub_fields = body_fields(fields[wrapper])
      if fields[wrapper].type == "object" and sub_fields then
        for _, name in ipairs { id_param or "id", "id" } do
          if sub_fields[name] then return name, wrapper, fields[wrapper] end
        end
      end
    end
  end
  local wrapper, wschema = request_wrapper(request)
  return "id", wrapper, wschema
end

-- The list an answer carries: the array of objects, preferring one whose
-- items have the id field.
local function list_place(schema, id_field)
  local fields = body_fields(schema)
  if not fields then return nil end
  local first
  for _, name in ipairs(schema.order or {}) do
    local f = fields[name]
    if f.type == "array" and type(f.items) == "table" and f.items.type == "object" then
      local item_fields = f.items.fields
      if item_fields and item_fields[id_field] then return name end
      first = first or name
    end
  end
  return first
end

-- A project's generic items start as the inventory's (its generic part).
local function from_inventory(p)
  local g = {}
  for service, cols in pairs(inventory.of(p).generic or {}) do
    g[service] = {}
    for noun, list in pairs(cols) do
      local items = {}
      for i, item in ipairs(list) do
        local id, field = inventory.generic_id(item)
        items[i] = { id = id, item = item, parents = {}, id_field = field }
      end
      g[service][noun] = { items = items }
    end
  end
  return g
end

local function store_of(ctx, route)
  local p = state.project(ctx.project_id or "global")
  local g = p.generic
  if not g then g = from_inventory(p) p.generic = g end
  local s = g[route.sdk_service]
  if not s then s = {} g[route.sdk_service] = s end
  return s
end

-- The item a project holds generically in a service's collection (made by
-- its generic create, or from the inventory's generic part), or nil: what
-- a stateful handler asks of a parent it does not keep itself.
function _M.item(project_id, service, noun, id)
  local p = state.project(project_id or "global")
  if not p.generic then p.generic = from_inventory(p) end
  local c = p.generic[service] and p.generic[service][noun]
  for _, rec in ipairs(c and c.items or {}) do
    if rec.id == id then return rec.item end
  end
  return nil
end

local function collection(store, noun)
  local c = store[noun]
  if not c then c = { items = {} } store[noun] = c end
  return c
end

local function not_found(route, what, id)
  return 404, errors.body(route.service, 404, format("The %s %s does not exist", what, tostring(id)))
end

-- The item's fields the request gives: its body, or the object of it the
-- answer's wrapper names.
local function given(body, wrapper)
  if type(body) ~= "table" then return {} end
  if wrapper and type(body[wrapper]) == "table" then return body[wrapper] end
  return body
end

local function merge(into, from, schema)
  local fields = body_fields(schema)
  for k, v in pairs(from) do
    if type(k) == "string" and (not fields or fields[k]) then into[k] = v end
  end
end

local function new_id(route, id_field, ctx, body)
  if find(id_field, "urn$") then
    local name = type(body) == "table" and type(body.name) == "string" and body.name or util.uuid4()
    return format("urn:%s:emulator:%s:%s", route.sdk_service, ctx.project_id or "global", name)
  end
  return util.uuid4()
end

-- The answer for an item: the synthesized answer with the item in place.
local function with_item(route, item, wrapper)
  local out = synth(route.response, 0)
  if type(out) ~= "table" then out = {} end
  if wrapper then
    out[wrapper] = item
  else
    for k, v in pairs(item) do out[k] = v end
  end
  return out
end

local function start_job(ctx, route, out)
  local id = util.uuid4()
  local p = state.project(ctx.project_id or "global")
  local list = p.generic_jobs
  if not list then list = {} p.generic_jobs = list end
  list[id] = { id = id, service = route.sdk_service, created = ctx.now, operation = route.name }
  state.own(id, route.sdk_service)
  out.job_id = id
end

local function maybe_job(ctx, route, out)
  local f = body_fields(route.response)
  if type(out) == "table" and f and (route.job or f.job_id) and ctx.method ~= "GET" then
    start_job(ctx, route, out)
  end
  return out
end

-- The status values of a job answer: the overlay's, else picked from the
-- status field's enum.
local function job_values(route, schema)
  local j = route.jobs
  if j and j.success then
    return j.success[1], j.failure and j.failure[1] or "FAILED", "RUNNING", j.status
  end
  local f = body_fields(schema)
  local enum = f and f.status and f.status.enum
  local ok, bad, running = "SUCCESS", "FAIL", "RUNNING"
  if enum then
    for _, v in ipairs(enum) do
      if type(v) == "string" then
        local u = upper(v)
        if find(u, "SUCC") then ok = v elseif find(u, "FAIL") then bad = v
        elseif find(u, "RUN") then running = v end
      end
    end
  end
  return ok, bad, running, { "status" }
end

local function set_path(out, path, value)
  local t = out
  for i = 1, #path - 1 do
    if type(t[path[i]]) ~= "table" then t[path[i]] = {} end
    t = t[path[i]]
  end
  t[path[#path]] = value
end

-- A poll of a job this emulator started (nil when the path names none).
local function poll(ctx, route)
  local p = state.project(ctx.project_id or "global")
  local list = p.generic_jobs
  if not list then return nil end
  local job
  for _, v in pairs(ctx.params) do
    if list[v] and list[v].service == route.sdk_service then job = list[v] break end
  end
  if not job then return nil end
  local out = synth(route.response, 0)
  local ok, bad, running, path = job_values(route, route.response)
  local phase = jobs.phase(job.created, ctx.now)
  local status = running
  if phase == "done" then
    status = jobs.settle(job, job.id) and bad or ok
  end
  set_path(out, path, status)
  out.job_id = job.id
  if body_fields(route.response) and route.response.fields.entities then
    out.entities = out.entities or {}
  end
  return 200, out
end

-- What the route is in the REST model (computed once per route).
local function shape(route)
  if route.rest ~= nil then return route.rest end
  local rest = catalog.rest(route.field, route.sdk_service, route.method, route.path) or false
  route.rest = rest
  return rest
end

local function item_schema(route, wrapper, wrapper_schema)
  if wrapper then return wrapper_schema end
  return route.response
end

local function create(ctx, route, rest)
  local id_field, wrapper, wschema = id_place(route.response, rest.param, route.request)
  local body = ctx.body
  local item = synth(item_schema(route, wrapper, wschema), 1)
  if type(item) ~= "table" then item = {} end
  merge(item, given(body, wrapper), nil)
  local id = new_id(route, id_field, ctx, given(body, wrapper))
  item[id_field] = id
  local c = collection(store_of(ctx, route), rest.noun)
  local parents = {}
  for k, v in pairs(ctx.params) do if k ~= "project_id" then parents[k] = v end end
  c.items[#c.items + 1] = { id = id, item = item, parents = parents, id_field = id_field,
                            wrapper = wrapper }
  state.own(id, route.sdk_service)
  return 200, maybe_job(ctx, route, with_item(route, item, wrapper))
end

local function find_item(ctx, route, rest)
  local c = collection(store_of(ctx, route), rest.noun)
  local id = ctx.params[rest.param]
  for i, rec in ipairs(c.items) do
    if rec.id == id then return rec, i, c end
  end
  return nil, id, c
end

local function arg(ctx, loc, name)
  if not name then return nil end
  local v
  if loc == "body" then
    v = type(ctx.body) == "table" and ctx.body[name] or nil
  else
    v = ctx.args[name]
  end
  if type(v) == "table" then v = v[1] end
  return v
end

-- The items of a page: offset in rows (offset, start, from), page numbers
-- (page, offset_page: from 1), or after a marker.
local function page(ctx, route, items)
  local pg = route.paging
  if not pg then return items end
  local loc = pg.location
  local size = tonumber(arg(ctx, loc, pg.size))
  local pos = arg(ctx, loc, pg.position)
  local first = 1
  local style = pg.style
  if style == "marker" then
    if pos and pos ~= "" then
      first = #items + 1
      for i, rec in ipairs(items) do
        if rec.id == pos then first = i + 1 break end
      end
    end
  elseif style == "page" or style == "offset_page" then
    local n = tonumber(pos) or 1
    if n < 1 then n = 1 end
    first = (n - 1) * (size or #items) + 1
  else
    first = (tonumber(pos) or 0) + 1
  end
  first = max(1, floor(first))
  local last = #items
  if size and size > 0 then last = min(#items, first + floor(size) - 1) end
  local out = {}
  for i = first, last do out[#out + 1] = items[i] end
  return out
end

-- A top-level number that counts the items.
local function is_total(name, f)
  return (f.type == "integer" or f.type == "number")
    and (find(name, "count$") or find(name, "Count$") or find(name, "^total")) ~= nil
end

-- The items under the parents the list's path names.
local function under(ctx, items)
  local out = {}
  for _, rec in ipairs(items) do
    local ok = true
    for k, v in pairs(rec.parents) do
      if ctx.params[k] ~= nil and ctx.params[k] ~= v then ok = false break end
    end
    if ok then out[#out + 1] = rec end
  end
  return out
end

local function list(ctx, route, rest)
  local c = collection(store_of(ctx, route), rest.noun)
  local matching = under(ctx, c.items)
  local out = synth(route.response, 0)
  if type(out) ~= "table" then out = {} end
  local id_field = matching[1] and matching[1].id_field or rest.param or "id"
  local field = list_place(route.response, id_field)
  local rows = page(ctx, route, matching)
  local items = {}
  for i, rec in ipairs(rows) do items[i] = rec.item end
  local fields = body_fields(route.response)
  if field then out[field] = util.array(items) end
  for name, f in pairs(fields or {}) do
    if name ~= "current_count" and is_total(name, f) then out[name] = #matching end
  end
  if fields and fields.page_info and route.paging and route.paging.style == "marker" then
    local last = rows[#rows]
    out.page_info = { current_count = #rows,
                      next_marker = last and last.id ~= matching[#matching].id and last.id or nil }
  end
  return 200, out
end

local function item_op(ctx, route, rest)
  local rec, i, c = find_item(ctx, route, rest)
  if not rec then return not_found(route, rest.noun, i) end
  local _, wrapper = id_place(route.response, rest.param, nil)
  local fields = body_fields(route.response)
  if not wrapper and rec.wrapper and not (fields and fields[rec.id_field]) then
    wrapper = rec.wrapper
  end
  local method = ctx.method
  if method == "DELETE" then
    table.remove(c.items, i)
    state.own(rec.id, nil)
    local out = synth(route.response, 0)
    if type(out) ~= "table" or next(out) == nil then return 204, "" end
    return 200, maybe_job(ctx, route, out)
  end
  if method == "PUT" or method == "PATCH" then
    merge(rec.item, given(ctx.body, request_wrapper(route.request) or wrapper), nil)
    rec.item[rec.id_field] = rec.id
  end
  if method ~= "GET" then
    return 200, maybe_job(ctx, route, with_item(route, rec.item, wrapper))
  end
  return 200, with_item(route, rec.item, wrapper)
end

-- The handler of every generic route.
function _M.handle(ctx)
  local route = ctx.route
  local rest = shape(route)
  if rest then
    if rest.kind == "create" then return create(ctx, route, rest) end
    if rest.kind == "list" then return list(ctx, route, rest) end
    if rest.kind == "item" then return item_op(ctx, route, rest) end
  end
  if ctx.method == "GET" then
    local status, out = poll(ctx, route)
    if status then return status, out end
    -- a job this emulator did not start
    local param = match(route.path, "{([^/{}]*job_id)}$")
    if param then return not_found(route, "job", ctx.params[param]) end
  end
  local out = synth(route.response, 0)
  if type(out) ~= "table" then
    if out == null or route.response == nil then return 200, {} end
    return 200, { value = out }
  end
  return 200, maybe_job(ctx, route, out)
end

return _M
