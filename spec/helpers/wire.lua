-- spec/helpers/wire.lua: a request of spec/fixtures/wire/ (what the official
-- Python SDK sent, tools/capture_wire.py) sent again through hwcloud's own
-- call path, and the two compared.
--
--   local wire = require "spec.helpers.wire"
--   wire.names()                 the fixtures' service versions (ecs_v2, ...), sorted
--   wire.read(name)              head, records (one per operation, in file order)
--   wire.json(ct)                true for a JSON content type (the comparison's scope)
--   wire.compare(name[, only])   {checked, excluded = {op = why}, diffs = {"op: what: got .., want .."},
--                                 missing = {op...}} for one fixture (only: a set of operations)
--
-- Each record is replayed through a recording client (hwcloud.client.recording:
-- configuration, validation, marshalling, signing, the headers call.lua adds)
-- and what it would send is compared with what the SDK sent: method, path,
-- query, JSON body, Content-Type, the id header (X-Project-Id / X-Domain-Id)
-- and the request's header fields.

local cjson = require "cjson.safe"
local core = require "hwcloud.core"
local util = require "spec.helpers.util"

local M = {}

local DIR = util.root .. "/spec/fixtures/wire"

function M.names()
  local out = util.capture("ls " .. util.quote(DIR))
  local names = {}
  for f in out:gmatch("[^\n]+") do
    local n = f:match("^(.+)%.jsonl$")
    if n then names[#names + 1] = n end
  end
  table.sort(names)
  return names
end

function M.read(name)
  local f = assert(io.open(DIR .. "/" .. name .. ".jsonl", "rb"))
  -- hwcloud's own reader: integers stay integers (a header field of 104
  -- is sent as "104", as a user's integer would be)
  local head = assert(core.decode(f:read("*l")))
  local records = {}
  for line in f:lines() do records[#records + 1] = assert(core.decode(line)) end
  f:close()
  return head, records
end

-- application/json with or without parameters; not json-patch, not a
-- multipart or form or stream body (the other branch of the wire)
function M.json(ct)
  if type(ct) ~= "string" then return false end
  ct = ct:lower()
  return ct == "application/json" or ct:find("^application/json%s*;") ~= nil
end

-- Enum fields: the Python SDK's models list no values for some fields the
-- Go SDK (the descriptions' facts) has enums for; its token then stands in
-- for the first allowed value, in the request and in what was sent alike.
local function enum_swaps(schema, value, swaps, depth)
  if depth > 14 or type(schema) ~= "table" then return end
  if type(value) == "string" and schema.enum and type(schema.enum[1]) == "string" then
    for _, e in ipairs(schema.enum) do if e == value then return end end
    if value:match("^w%d%d%d%dz$") then swaps[value] = schema.enum[1] end
  elseif type(value) == "string" and schema.items then
    enum_swaps(schema.items, value, swaps, depth + 1) -- a list given as one query value
  elseif type(value) == "table" then
    if schema.fields then
      for k, v in pairs(value) do enum_swaps(schema.fields[k], v, swaps, depth + 1) end
    elseif schema.items then
      for _, v in ipairs(value) do enum_swaps(schema.items, v, swaps, depth + 1) end
    elseif schema.values then
      for _, v in pairs(value) do enum_swaps(schema.values, v, swaps, depth + 1) end
    end
  end
end

-- tokens are unique ("w0001z"), so they are replaced inside strings too
-- (a path segment, a query value)
local function swap(v, swaps)
  if type(v) == "string" then
    return (v:gsub("w%d%d%d%dz", function(t) return swaps[t] end))
  end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[swap(k, swaps)] = swap(x, swaps) end
  return setmetatable(out, getmetatable(v))
end

-- the flat request table of DESIGN 3b from the record's path, query,
-- header and body
local function request_of(op, given)
  local req = {}
  for _, part in ipairs { "path", "query", "header" } do
    for k, v in pairs(given[part] or {}) do req[k] = v end
  end
  -- a Content-Type header field of the SDK's request (asm create_mesh):
  -- the SDK overrides it with the operation's own; hwcloud has no such field
  for k in pairs(given.header or {}) do
    if k:lower() == "content-type" then req[k] = nil end
  end
  if given.body ~= nil then
    local f = op.request.fields and op.request.fields.body
    if f and f.location == "whole_body" then
      req.body = given.body
    elseif type(given.body) == "table" then
      for k, v in pairs(given.body) do req[k] = v end
    else
      req.body = given.body
    end
  end
  return req
end

local function decode_query(q)
  local out = {}
  local function dec(s)
    return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
  end
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[#out + 1] = dec(k) .. "=" .. dec(v)
  end
  table.sort(out)
  return out
end

local function query_of(pairs_list)
  local out = {}
  for i, p in ipairs(pairs_list or {}) do out[i] = p[1] .. "=" .. p[2] end
  table.sort(out)
  return out
end

-- numbers compare as numbers whatever their subtype; JSON null as null
local function same(a, b)
  if type(a) == "number" and type(b) == "number" then return a == b end
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.same = same

local function enc(v)
  if v == nil then return "nil" end
  local s = cjson.encode(v) or tostring(v)
  if #s > 300 then s = s:sub(1, 300) .. "..." end
  return s
end

local function header_map(lines)
  local h = {}
  for _, line in ipairs(lines or {}) do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then h[k:lower()] = v end
  end
  return h
end

local clients = {}
local function client_for(head)
  local key = head.credentials
  if not clients[key] then
    local client_mod = require "hwcloud.client"
    clients[key] = { assert(client_mod.recording {
      ak = "WIREAK", sk = "wire-secret", region = "cn-north-4",
      project_id = "wireproject0001", domain_id = "wiredomain0001",
      endpoint = "http://127.0.0.1:9", retries = 0,
    }) }
  end
  return clients[key][1], clients[key][2]
end

-- what was recorded against what the SDK sent; differ(what, got, want)
local function check_sent(differ, s, out, want_body)
  local h = header_map(s.headers)
  local url_path, query = s.url:match("^https?://[^/]+([^?]*)%??(.*)$")
  if s.method ~= out.method then differ("method", s.method, out.method) end
  if url_path ~= out.path then differ("path", url_path, out.path) end
  local gq, wq = decode_query(query), query_of(out.query)
  if table.concat(gq, "&") ~= table.concat(wq, "&") then differ("query", gq, wq) end
  local got_body = s.body
  if got_body == "" then got_body = nil end
  if got_body ~= nil then
    local decoded = core.decode(got_body)
    if decoded ~= nil then got_body = decoded end
  end
  if not same(got_body, want_body) then differ("body", got_body, want_body) end
  local ct = h["content-type"]
  if (ct or ""):lower():gsub("%s", "") ~= (out.ct or ""):lower():gsub("%s", "") then
    differ("content-type", ct, out.ct)
  end
  local ids = {}
  for _, k in ipairs { "X-Project-Id", "X-Domain-Id" } do
    if h[k:lower()] then ids[#ids + 1] = k end
  end
  if table.concat(ids, ",") ~= table.concat(out.ids or {}, ",") then differ("id header", ids, out.ids) end
  for k, v in pairs(out.headers or {}) do
    if k:lower() ~= "content-type" and h[k:lower()] ~= v then differ("header " .. k, h[k:lower()], v) end
  end
end

-- compare one record: a list of differences (empty when the wire matches)
local function compare_one(svc, client, sends, name, rec)
  local diffs = {}
  local opname = rec.op
  local op = svc.operations[opname]
  local function differ(what, got, want)
    diffs[#diffs + 1] = ("%s.%s: %s: got %s, want %s"):format(name, opname, what, enc(got), enc(want))
  end
  local req = request_of(op, rec["in"])
  local swaps = {}
  enum_swaps(op.request, req, swaps, 0)
  req = swap(req, swaps)
  local out = swap(rec.out, swaps)
  -- in the path the SDK sent the token percent-encoded (quote(v, safe=""));
  -- the value standing in for it is encoded the same way
  out.path = rec.out.path:gsub("w%d%d%d%dz", function(t)
    local v = swaps[t]
    return v and (v:gsub("[^%w%-%._~]", function(ch) return ("%%%02X"):format(ch:byte()) end))
  end)
  local want_body = out.body
  if want_body == nil then want_body = swap(rec["in"].body, swaps) end
  if want_body == cjson.null then want_body = nil end

  local n = #sends
  local _, err = client[name][opname](client[name], req)
  if #sends == n then
    differ("refused", err and (tostring(err.field) .. ": " .. tostring(err.message)) or "nothing sent",
      "sent")
    return diffs
  end
  check_sent(differ, sends[#sends], out, want_body)
  return diffs
end

-- compare(name[, only]) -> { checked, excluded, diffs, missing }
function M.compare(name, only)
  local services = require "hwcloud.services"
  local head, records = M.read(name)
  local svc = assert(services.load(name))
  local res = { checked = 0, excluded = {}, diffs = {}, missing = {}, head = head }
  if head.not_captured then return res end
  local client, sends = client_for(head)
  for opname in pairs(head.skipped or {}) do
    if not svc.all[opname] then res.missing[#res.missing + 1] = opname end
  end
  for _, rec in ipairs(records) do
    local op = svc.all[rec.op]
    if not (only and not only[rec.op]) then
      if not op then
        res.missing[#res.missing + 1] = rec.op
      elseif not M.json(rec.out.ct) or not M.json(op.content_type) then
        res.excluded[rec.op] = "content type " .. tostring(rec.out.ct)
      else
        res.checked = res.checked + 1
        for _, d in ipairs(compare_one(svc, client, sends, name, rec)) do res.diffs[#res.diffs + 1] = d end
      end
    end
  end
  table.sort(res.missing)
  -- a recording client keeps every request: forget them
  for i = #sends, 1, -1 do sends[i] = nil end
  return res
end

return M
