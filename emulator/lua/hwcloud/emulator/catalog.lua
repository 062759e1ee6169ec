-- hwcloud.emulator.catalog: where every described operation lives, without
-- loading a service description. It reads the catalog's index
-- (hwcloud.services.index) and the text of each generated description for
-- its operations' method and path, and of its region data for the hosts
-- that name it: about 15,000 operations in a fraction of a second and a few
-- megabytes, where loading every description would take half a minute and
-- hundreds of megabytes. A service's description itself loads at its first
-- request (hwcloud.emulator.described).
--
-- Entries: { file, field (the service field that holds the file, e.g.
-- "vpc_v2"), name ("<field>.<operation>", the plain field when the file is
-- its newest version: "vpc.create_vpc_v3"... "vpc_v2.create_vpc"),
-- service (the SDK's service name, e.g. "vpc"), op, method, path, segs
-- (literal segments, false for a parameter), score }.

local services = require "hwcloud.services"

local pairs, ipairs, type, pcall, require = pairs, ipairs, type, pcall, require
local gmatch, match, sub, lower, find, gsub =
  string.gmatch, string.match, string.sub, string.lower, string.find, string.gsub
local concat, sort = table.concat, table.sort
local io_open = io.open

local _M = {}

local built = false
-- "<segment count> <last segment>" (empty for a parameter) -> list of
-- entries (most literal first): a request looks at two short lists
local by_length = {}
local by_shape = {}    -- "METHOD /a/{}/b" -> list of entries, in catalog order
local by_name = {}     -- "<field>.<op>" -> entry
local host_names = {}  -- full host name -> { service = true }
local host_labels = {} -- first label of a host -> { service = true }
local field_of_file = {}
local service_of_field = {}

-- A segment with parameters inside it (IDME's rdm_{identifier}_app): a
-- pattern and the parameters' names.
local function inner(seg)
  local names = {}
  local pattern = gsub(gsub(seg, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"), "{([^{}]+)}", function(p)
    names[#names + 1] = p
    return "(.-)"
  end)
  return { pattern = "^" .. pattern .. "$", names = names }
end

-- The template of a path as its segments: literal text, false for a
-- parameter, or a pattern; the shape (parameters as {}) and the score
-- (literal segments, the earlier the better, outrank parameters).
local function parse(path)
  local segs, shape, score, n = {}, {}, {}, 0
  for seg in gmatch(sub(path, 2), "[^/]+") do
    n = n + 1
    local param = find(seg, "^{[^{}]+}$") ~= nil
    if param then
      segs[n], shape[n], score[n] = false, "{}", "0"
    elseif find(seg, "{", 1, true) then
      segs[n], shape[n], score[n] = inner(seg), seg, "0"
    else
      segs[n], shape[n], score[n] = seg, seg, "1"
    end
  end
  return segs, "/" .. concat(shape, "/"), concat(score), n
end
_M.parse = parse

local order = 0
local item_param = {}  -- "<service> METHOD-less shape of a collection" -> its item's parameter
local creates = {}     -- "<service> <collection shape>" -> true: a POST there
local nouns = {}       -- "<service> <noun>" -> true: some collection of it is created

local ITEM_METHODS = { GET = true, PUT = true, PATCH = true, DELETE = true }

-- The collection of an item template: its shape and the item's parameter.
local function collection_of(path)
  local head, param = match(path, "^(.*)/{([^/{}]+)}$")
  if not head then return nil end
  local _, shape = parse(head)
  return shape, param, match(head, "/([^/{}]+)$")
end

local entries_of_file = {}

local function add(file, op, method, path)
  local field = field_of_file[file]
  if not field then return end
  local segs, shape, score, n = parse(path)
  order = order + 1
  local e = { file = file, field = field, name = field .. "." .. op, op = op, method = method,
              path = path, segs = segs, score = score, order = order,
              service = service_of_field[field] }
  local of_file = entries_of_file[file]
  if not of_file then of_file = {} entries_of_file[file] = of_file end
  of_file[#of_file + 1] = e
  local last = segs[n]
  local bucket = n .. " " .. (type(last) == "string" and last or "")
  local list = by_length[bucket]
  if not list then list = {} by_length[bucket] = list end
  list[#list + 1] = e
  local key = method .. " " .. shape
  local same = by_shape[key]
  if not same then same = {} by_shape[key] = same end
  same[#same + 1] = e
  by_name[e.name] = by_name[e.name] or e
  local svc = e.service
  if ITEM_METHODS[method] then
    local cshape, param = collection_of(path)
    if cshape then item_param[svc .. " " .. cshape] = item_param[svc .. " " .. cshape] or param end
  elseif method == "POST" then
    creates[svc .. " " .. shape] = true
  end
end

local function add_host(host, service)
  host = lower(host)
  local names = host_names[host]
  if not names then names = {} host_names[host] = names end
  names[service] = true
  local label = match(host, "^([^.]+)")
  local labels = host_labels[label]
  if not labels then labels = {} host_labels[label] = labels end
  labels[service] = true
end

local function read(path)
  local f = io_open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The folder of the generated descriptions, found as Lua finds modules.
local function gen_folder()
  local searchpath = package.searchpath
  local p = searchpath and searchpath("hwcloud.services.index", package.path)
  if not p then return nil end
  return sub(p, 1, -#"index.lua" - 1) .. "gen/"
end

local function scan(folder, file)
  local text = read(folder .. file .. ".lua")
  if not text then return end
  local service = service_of_field[field_of_file[file]]
  for url in gmatch(match(text, "\n  regions = (%b{})") or "", '"https?://([^"/:]+)') do
    add_host(url, service)
  end
  for op, method, path in gmatch(text,
      '\n    ([%w_]+) = {\n      sdk_operation = "[^"]*",\n      method = "(%u+)",\n      path = "([^"]*)"') do
    add(file, op, method, path)
  end
end

-- Operations an overlay adds (method and path of its own): the overlays
-- are small Lua modules.
local function scan_overlay(field, entry)
  local ok, desc = pcall(require, "hwcloud.services." .. entry.overlay)
  if not ok or type(desc) ~= "table" or type(desc.operations) ~= "table" then return end
  local file = entry.files[1]
  for op, d in pairs(desc.operations) do
    if type(d) == "table" and d.method and d.path and not by_name[field .. "." .. op] then
      add(file, op, d.method, d.path)
    end
  end
end

-- An operation a plain field holds (the first of its versions to have the
-- name) goes by the plain field's name ("vpc.create_vpc" is v3's,
-- "iam.create_agency_v5" v5's); by its version field's too.
local function name_by_plain(names)
  for _, name in ipairs(names) do
    local e = services.entry(name)
    if not find(name, "_v%d+$") and e.files and #e.files > 0 then
      for _, file in ipairs(e.files) do
        for _, entry in ipairs(entries_of_file[file] or {}) do
          local full = name .. "." .. entry.op
          if not by_name[full] or by_name[full].field == name then
            by_name[full] = entry
            entry.name = full
          end
        end
      end
    end
  end
end

-- Each file's own field (the one holding it alone, a version field
-- rather than its plain one), else the first field holding it.
local function fields_of_files(names)
  for _, name in ipairs(names) do
    local e = services.entry(name)
    local files = e.files or {}
    if #files == 1 and (not field_of_file[files[1]] or find(name, "_v%d+$")) then
      field_of_file[files[1]] = name
    end
    service_of_field[name] = e.service or name
    if e.host then add_host(e.host .. ".example", e.service or name) end
  end
  for _, name in ipairs(names) do
    for _, file in ipairs(services.entry(name).files or {}) do
      if not field_of_file[file] then field_of_file[file] = name end
    end
  end
end

-- The files in the order a shared path goes to them, with no Host or id
-- to tell them apart: the hand-described services (an overlay) first,
-- then by name.
local function files_in_order(names)
  local files, by_hand = {}, {}
  for _, name in ipairs(names) do
    local e = services.entry(name)
    if e.overlay then
      for _, file in ipairs(e.files or {}) do by_hand[file] = true end
    end
  end
  for file in pairs(field_of_file) do files[#files + 1] = file end
  sort(files, function(a, b)
    if by_hand[a] ~= by_hand[b] then return by_hand[a] == true end
    return a < b
  end)
  return files
end

-- The collections with a POST and item operations: their nouns.
local function created_nouns()
  for key in pairs(creates) do
    if item_param[key] then
      local svc, noun = match(key, "^(%S+) .*/([^/{}]+)$")
      if noun then nouns[svc .. " " .. noun] = true end
    end
  end
end

function _M.build()
  if built then return end
  built = true
  local folder = gen_folder()
  local names = services.names()
  fields_of_files(names)
  if folder then
    for _, file in ipairs(files_in_order(names)) do scan(folder, file) end
  end
  for _, name in ipairs(names) do
    local e = services.entry(name)
    if e.overlay and e.files and e.files[1] and field_of_file[e.files[1]] == name then
      scan_overlay(name, e)
    end
  end
  name_by_plain(names)
  created_nouns()
  for _, list in pairs(by_length) do
    sort(list, function(a, b)
      if a.score ~= b.score then return a.score > b.score end
      return a.order < b.order
    end)
  end
end

-- What an operation is in the REST model: { kind = "create" | "list" |
-- "item", noun (the collection's last literal segment), param (the item's
-- path parameter) }, or nil. A collection counts when the service has a
-- POST to it and operations on its items.
function _M.rest(_, service, method, path)
  _M.build()
  if ITEM_METHODS[method] then
    local cshape, param, noun = collection_of(path)
    if cshape and noun and nouns[service .. " " .. noun] then
      return { kind = "item", noun = noun, param = param }
    end
  end
  local _, shape = parse(path)
  local noun = match(path, "/([^/{}]+)$")
  local key = service .. " " .. shape
  if noun and item_param[key] and creates[key] then
    if method == "POST" then return { kind = "create", noun = noun, param = item_param[key] } end
    if method == "GET" then return { kind = "list", noun = noun, param = item_param[key] } end
  end
  return nil
end

-- The services a Host header names (nil when it names none): the host of a
-- region's endpoint, or its first label as a service's host.
function _M.host_services(host)
  if type(host) ~= "string" or host == "" then return nil end
  host = lower(match(host, "^%[?([^%]]*)%]?:%d+$") or host)
  if find(host, "^[%d.]+$") or host == "localhost" or find(host, ":", 1, true) then return nil end
  _M.build()
  return host_names[host] or host_labels[match(host, "^([^.]+)")]
end

-- The entries of `n` segments whose last one is `last`, and those whose
-- last one is a parameter; each most literal first.
function _M.candidates(n, last)
  _M.build()
  return by_length[n .. " " .. (last or "")], by_length[n .. " "]
end

-- The entries with this method and path template.
function _M.same_shape(method, path)
  _M.build()
  local _, shape = parse(path)
  return by_shape[method .. " " .. shape]
end

-- An entry by "<field>.<operation>".
function _M.entry(name)
  _M.build()
  return by_name[name]
end

-- The SDK's service of a client field (the field itself when unknown).
function _M.service_of(field)
  _M.build()
  return service_of_field[field] or field
end

-- How many operations the catalog has (for the bench and the tests).
function _M.count()
  _M.build()
  return order
end

return _M
