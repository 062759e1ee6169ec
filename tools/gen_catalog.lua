-- tools/gen_catalog.lua: writes lua/hwcloud/services/index.lua, the catalog
-- every consumer reads (the client's fields, the CLI, the emulator, docs,
-- types, the rockspecs' module lists, specs, the README's counts), from
--   lua/hwcloud/services/gen/*.lua   the service versions of the official
--                                    SDKs (tools/gen_services.py)
--   lua/hwcloud/services/manifest.lua  the exceptions (the one hand input)
--   lua/hwcloud/services/<name>.lua  the overlays: facts no SDK has
-- Needs no SDK: `--check` writes nothing and exits 1 when the index is stale.
--   lua5.4 tools/gen_catalog.lua [--check] [ROOT]

local root, check = ".", false
for _, a in ipairs(arg) do
  if a == "--check" then check = true else root = a end
end
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path

local concat, sort, format = table.concat, table.sort, string.format
local DIR = root .. "/lua/hwcloud/services"
local INDEX = DIR .. "/index.lua"

local function ls(dir, pattern)
  local out = {}
  local p = assert(io.popen("ls '" .. dir .. "'"))
  for f in p:lines() do
    local n = f:match(pattern)
    if n then out[#out + 1] = n end
  end
  p:close()
  sort(out)
  return out
end

local function vnum(v) return tonumber(v:match("^v(%d+)$")) or 0 end
local function newest_first(list)
  sort(list, function(a, b) return vnum(a) > vnum(b) end)
  return list
end

local manifest = dofile(DIR .. "/manifest.lua")

-- every generated service version
local versions_of, gen = {}, {}
for _, file in ipairs(ls(DIR .. "/gen", "^([%w_]+)%.lua$")) do
  if not file:match("_responses$") then
    local d = dofile(DIR .. "/gen/" .. file .. ".lua")
    gen[file] = d
    local list = versions_of[d.service] or {}
    list[#list + 1] = d.api_version
    versions_of[d.service] = list
  end
end

local overlays = {}
for _, n in ipairs(ls(DIR, "^([%w_]+)%.lua$")) do
  if n ~= "init" and n ~= "index" and n ~= "manifest" then overlays[n] = dofile(DIR .. "/" .. n .. ".lua") end
end

-- the host label and whether a region's URL names no region (a global host)
local function host_of(regions)
  local ids = {}
  for id in pairs(regions or {}) do ids[#ids + 1] = id end
  sort(ids)
  local pick = regions and regions["cn-north-4"] and "cn-north-4" or ids[1]
  if not pick then return nil end
  local url = regions[pick][1]
  local host = url:match("^https?://([^/:]+)")
  local label = host:match("^(.-)%." .. pick:gsub("%-", "%%-") .. "%.")
  return label or host
end

-- the operations of a field: its versions' and the overlay's own
local function op_count(files, overlay)
  local names, n = {}, 0
  for _, f in ipairs(files) do
    for op in pairs(gen[f].operations) do
      if not names[op] then names[op], n = true, n + 1 end
    end
  end
  for op, p in pairs(overlay and overlay.operations or {}) do
    if not names[op] and p.method and p.path then names[op], n = true, n + 1 end
  end
  return n
end

local function global_of(files, overlay)
  for _, f in ipairs(files) do if gen[f].global then return true end end
  return not files[1] and overlay and overlay.global or false
end

local fields, regions_known = {}, {}
local function add_field(name, service, versions, overlay_name)
  local files = {}
  for i, v in ipairs(versions) do files[i] = service .. "_" .. v end
  local overlay = overlay_name and overlays[overlay_name]
  local first = files[1] and gen[files[1]]
  local e = {
    service = service,
    versions = versions,
    default = versions[1] or (overlay and overlay.api_version),
    title = overlay and overlay.title or service:upper(),
    host = overlay and overlay.host or (first and host_of(first.regions)) or service,
    global = global_of(files, overlay),
    operations = op_count(files, overlay),
    files = files,
    overlay = overlay_name,
  }
  if first then
    for _, f in ipairs(files) do
      for id in pairs(gen[f].regions) do regions_known[id] = true end
    end
  end
  -- how the field's list operations page: the operations per style (each
  -- operation's own style is its description's `paging`)
  local paging, seen = {}, {}
  for _, f in ipairs(files) do
    for op, d in pairs(gen[f].operations) do
      if not seen[op] then
        seen[op] = true
        if d.paging then paging[d.paging.style] = (paging[d.paging.style] or 0) + 1 end
      end
    end
  end
  if next(paging) then e.paging = paging end
  fields[name] = e
end

for service, vs in pairs(versions_of) do
  newest_first(vs)
  local merged = manifest.fields and manifest.fields[service] or vs
  add_field(service, service, merged, overlays[service] and service or nil)
  for _, v in ipairs(vs) do
    local f = service .. "_" .. v
    if overlays[f] then
      add_field(f, service, { v }, f)
    else
      add_field(f, service, { v }, overlays[service] and service or nil)
    end
  end
end
-- overlays that are whole services (in no SDK)
for n, o in pairs(overlays) do
  if not fields[n] then
    assert(o.operations, n .. ": an overlay of no generated service must describe operations")
    add_field(n, n, {}, n)
  end
end
for _, e in pairs(fields) do if e.overlay and overlays[e.overlay].regions then
  for id in pairs(overlays[e.overlay].regions) do regions_known[id] = true end
end end

-- the operations that start a job: resolved through the registry itself
package.loaded["hwcloud.services.index"] = { fields = fields, excluded = {}, regions = {} }
local services = require "hwcloud.services"
for name, e in pairs(fields) do
  local o = e.overlay and overlays[e.overlay]
  if o and o.jobs then
    local svc = assert(services.load(name))
    local list = {}
    for _, op in ipairs(services.operation_names(svc)) do
      local d = services.operation(svc, op)
      if d and d.job and d.name == op then list[#list + 1] = op end
    end
    e.jobs = list
  end
end

-- excluded: by service field name (a service whose every version is
-- excluded) and by version field
local excluded = {}
for key, why in pairs(manifest.excluded or {}) do
  local s, v = key:match("^([%w]+)/(v%d+)$")
  excluded[s .. "_" .. v] = why
  if not fields[s] then excluded[s] = why end
end
-- obs is a client of its own (hwcloud.obs), not a catalog field
excluded.obs = nil

-- serialise, sorted
local function lstr(s) return format("%q", s) end
local function key(k)
  if k:match("^[%a_][%w_]*$") and not ({ ["and"] = 1, ["or"] = 1, ["not"] = 1, ["end"] = 1,
    ["for"] = 1, ["if"] = 1, ["in"] = 1, ["do"] = 1, ["nil"] = 1 })[k] then return k end
  return "[" .. lstr(k) .. "]"
end
local function list(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = lstr(v) end
  return "{ " .. concat(out, ", ") .. (#out > 0 and " }" or "}")
end
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  sort(ks)
  return ks
end

local names = sorted_keys(fields)
local out = {
  "-- Generated by tools/gen_catalog.lua from lua/hwcloud/services/gen/*.lua, the",
  "-- overlays beside this file and manifest.lua. Do not edit: run `make catalog`.",
  "-- The catalog: one entry per client field (paging: its list operations per",
  "-- paging style; each operation's own is in its description). Loading it",
  "-- loads no service.",
  "-- luacheck: no max line length",
  "return {",
  "  -- the client fields, sorted",
  "  names = {",
}
for _, n in ipairs(names) do out[#out + 1] = "    " .. lstr(n) .. "," end
out[#out + 1] = "  },"
out[#out + 1] = "  fields = {"
for _, n in ipairs(names) do
  local e = fields[n]
  local parts = {
    "service = " .. lstr(e.service),
    "versions = " .. list(e.versions),
  }
  if e.default then parts[#parts + 1] = "default = " .. lstr(e.default) end
  parts[#parts + 1] = "title = " .. lstr(e.title)
  parts[#parts + 1] = "host = " .. lstr(e.host)
  parts[#parts + 1] = "global = " .. tostring(e.global)
  parts[#parts + 1] = "operations = " .. e.operations
  parts[#parts + 1] = "files = " .. list(e.files)
  if e.overlay then parts[#parts + 1] = "overlay = " .. lstr(e.overlay) end
  if e.jobs then parts[#parts + 1] = "jobs = " .. list(e.jobs) end
  if e.paging then
    local styles = {}
    for _, st in ipairs(sorted_keys(e.paging)) do styles[#styles + 1] = key(st) .. " = " .. e.paging[st] end
    parts[#parts + 1] = "paging = { " .. concat(styles, ", ") .. " }"
  end
  out[#out + 1] = "    " .. key(n) .. " = { " .. concat(parts, ", ") .. " },"
end
out[#out + 1] = "  },"
out[#out + 1] = "  -- services and versions of the official SDKs that are not generated, and why"
out[#out + 1] = "  excluded = {"
for _, k in ipairs(sorted_keys(excluded)) do
  out[#out + 1] = "    " .. key(k) .. " = " .. lstr(excluded[k]) .. ","
end
out[#out + 1] = "  },"
out[#out + 1] = "  -- every region some service has an endpoint in"
local ids = sorted_keys(regions_known)
out[#out + 1] = "  regions = " .. list(ids) .. ","
out[#out + 1] = "}"
local text = concat(out, "\n") .. "\n"

local f = io.open(INDEX, "rb")
local old = f and f:read("a")
if f then f:close() end
if old == text then
  print(format("catalog up to date: %d fields", #names))
  return
end
if check then
  io.stderr:write("lua/hwcloud/services/index.lua is stale (run `make catalog`)\n")
  os.exit(1)
end
f = assert(io.open(INDEX, "wb"))
f:write(text)
f:close()
print(format("wrote lua/hwcloud/services/index.lua: %d fields", #names))
