-- hwcloud.pager: client:pages and client:each over any list operation.
-- How an operation pages is its description's `paging` fact (written by
-- tools/gen_services.py from the SDKs): a style, where its fields are (the
-- query or the body) and which fields hold the position and the size. An
-- operation without one is read from its request field names. The items
-- are the answer's one array field (the answer itself when it is one).
--
--   for page, err in client:pages("workspaceapp", "list_servers", { limit = 50 }) do
--     if not page then error(tostring(err)) end
--   end
-- An error ends the iteration after one (false, err).
--
-- Styles, and how the next page is asked for:
--   offset, start_number, from   the position counts rows: + the items seen
--   offset_page, page            the position counts pages: + 1
--   marker, start                the answer's next marker (next_marker,
--                                page_info.next_marker, meta_data.marker,
--                                links.next, Glance's next), else the last
--                                item's id; a
--                                marker operation whose answer has no marker
--                                and an offset beside it pages by the offset
-- The end: an empty page; `truncated` false; no next marker where the
-- answer has a place for one; `links` without `next`; the Content-Range
-- end at its total; the total reached; else a page shorter than asked.
-- A next page whose position or items repeat the last one's is an error,
-- never a loop.

local type, pairs, ipairs, next, sort = type, pairs, ipairs, next, table.sort
local tonumber, tostring, format = tonumber, tostring, string.format

local _M = {}

local MAX_PAGES = 100000 -- a server that never stops must not loop forever

local PAGE_NUMBER = { "page", "page_index", "page_no", "page_num", "pageNo", "pageNum",
                      "pageIndex", "page_number", "current_page", "cur_page", "curPage",
                      "currentPage" }
local PAGE_SIZE = { "limit", "page_size", "pageSize", "per_page", "size", "maxitems",
                    "max_items", "page_limit", "rows", "top" }
local TOTAL = { "total", "count", "total_count", "totalCount", "total_num", "totalNum",
                "total_number", "totalNumber", "total_size", "totalElements", "total_records" }
local NEXT_MARKER = { "next_marker", "nextMarker", "next_page_marker" }
-- where an answer keeps its paging facts beside the items
local INFO = { "page_info", "pageInfo", "meta_data", "metadata", "metaData", "result", "data" }

local function lower_map(fields)
  local m = {}
  for name in pairs(fields) do m[name:lower()] = name end
  return m
end

-- the request fields that can carry paging: the query's, and the body's
-- (top-level, or inside the field that is the whole body)
local function field_sets(op)
  local fields = op.request and op.request.fields or {}
  local sets = { { fields = {}, where = "query" }, { fields = {}, where = "body" } }
  for name, f in pairs(fields) do
    if f.location == "query" then
      sets[1].fields[name] = f
    elseif f.location == nil then
      sets[2].fields[name] = f
    elseif f.location == "whole_body" and type(f.fields) == "table" then
      sets[3] = { fields = f.fields, where = "body", container = name }
    end
  end
  return sets
end

local function pick(map, names)
  for _, n in ipairs(names) do
    local v = map[n:lower()]
    if v then return v end
  end
  return nil
end

-- inference from field names, for an operation without a paging fact
local function infer(op)
  for _, set in ipairs(field_sets(op)) do
    local m = lower_map(set.fields)
    local size = pick(m, PAGE_SIZE)
    local style, position
    if m.marker then
      style, position = "marker", m.marker
    elseif m.offset then
      style, position = "offset", m.offset
    else
      -- (start, from and start_number are times as often as positions:
      -- only the paging fact says which)
      position = pick(m, PAGE_NUMBER)
      if position then style = "page" end
    end
    if style then
      local s = { style = style, position = position, size = size, container = set.container,
                  fields = set.fields }
      if style == "marker" and m.offset then s.offset, s.unit = m.offset, "row" end
      return s
    end
  end
  return nil
end

local SPEC = setmetatable({}, { __mode = "k" })

-- spec_of(op) -> { style, position, size, offset, unit, container, fields } | nil
local function spec_of(op)
  local s = SPEC[op]
  if s ~= nil then return s or nil end
  local p = op.paging
  if type(p) == "table" and type(p.style) == "string" and type(p.position) == "string" then
    s = { style = p.style, position = p.position, size = p.size }
    local fields = op.request and op.request.fields or {}
    if p.location == "body" and not fields[p.position] then
      -- the body is one request field (a whole_body model)
      for name, f in pairs(fields) do
        if f.location == "whole_body" and type(f.fields) == "table" and f.fields[p.position] then
          s.container, fields = name, f.fields
          break
        end
      end
    end
    s.fields = fields
    if type(p.offset) == "string" then
      s.offset, s.unit = p.offset:match("^(.-):(%a+)$")
    end
  else
    s = infer(op)
  end
  if op.ready then SPEC[op] = s or false end
  return s
end
_M.spec_of = spec_of

-- style_of(op) -> style, spec | nil
function _M.style_of(op)
  local s = spec_of(op)
  if not s then return nil end
  return s.style, s
end

-- the array fields of an answer, by its schema, else by its data; the
-- links beside a list (servers_links) are not its items
local function arrays(schema, page)
  local names = {}
  if schema and schema.fields then
    for name, f in pairs(schema.fields) do
      if f.type == "array" then names[#names + 1] = name end
    end
  end
  if #names == 0 then
    for name, v in pairs(page) do
      if type(v) == "table" and (#v > 0 or next(v) == nil) and type(name) == "string" then
        names[#names + 1] = name
      end
    end
  end
  sort(names, function(a, b)
    local la, lb = a:match("links$") ~= nil, b:match("links$") ~= nil
    if la ~= lb then return lb end
    return a < b
  end)
  return names
end

-- the list in an answer: the answer if it is one, else its one array
-- field (KMS has two: the first that holds something), else the one of
-- an object field (CodeArts Build's result.endpoints)
local nested_items

local function items_of(op, page, depth)
  if type(page) ~= "table" then return nil end
  if #page > 0 then return page end
  local schema = op.response
  if schema and schema.type == "array" then return page end
  local found
  for _, name in ipairs(arrays(schema, page)) do
    local v = page[name]
    if type(v) == "table" then
      if #v > 0 then return v end
      found = found or v
    end
  end
  if found then return found end
  if (depth or 0) == 0 then return nested_items(schema, page) or {} end
  return {}
end
_M.items_of = items_of

-- the items inside an object field (CodeArts Build's result.endpoints)
function nested_items(schema, page)
  for name, v in pairs(page) do
    if type(v) == "table" and next(v) ~= nil and #v == 0 then
      local sub = schema and schema.fields and schema.fields[name]
      local inner = items_of({ response = sub or false }, v, 1)
      if inner and next(inner) ~= nil then return inner end
    end
  end
  return nil
end

-- the tables an answer keeps paging facts in: itself and its info fields
local function infos(page)
  local list = { page }
  for _, n in ipairs(INFO) do
    if type(page[n]) == "table" then list[#list + 1] = page[n] end
  end
  return list
end

local function schema_info_has(op, names)
  local fields = op.response and op.response.fields
  if not fields then return false end
  local sets = { fields }
  for _, n in ipairs(INFO) do
    if fields[n] and fields[n].fields then sets[#sets + 1] = fields[n].fields end
  end
  for _, f in ipairs(sets) do
    for _, n in ipairs(names) do
      if f[n] then return true end
    end
  end
  return false
end

local function total_of(page)
  for _, t in ipairs(infos(page)) do
    for _, n in ipairs(TOTAL) do
      local v = tonumber(t[n])
      if v then return v end
    end
  end
  -- SMN's topic_count and its kind: the total of that list
  for k, v in pairs(page) do
    if type(k) == "string" and type(v) == "number" and k:match("_count$")
      and not k:match("^current") and not k:match("^page") then
      return v
    end
  end
  return nil
end

-- a query parameter of a URL (links.next)
local function url_param(url, name)
  local q = url:match("%?(.*)$")
  if not q then return nil end
  for k, v in q:gmatch("([^&=]+)=([^&]*)") do
    if k == name then
      return (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
  end
  return nil
end

-- the answer's next marker: string | false (the answer says there is none)
-- | nil (the answer has no place for one)
-- a marker value -> marker | false (past the end) | nil (no value)
local function marker_value(page, v)
  if type(v) == "string" and v ~= "" then return v end
  -- FunctionGraph: a row number, the total once past the end
  if type(v) == "number" then
    local total = total_of(page)
    if total and v >= total then return false end
    return tostring(v)
  end
  return nil
end

-- the marker in the answer or its info fields -> marker | false | nil,
-- and whether the answer has a place for one
local function info_marker(page)
  local slot = false
  for _, t in ipairs(infos(page)) do
    for _, n in ipairs(NEXT_MARKER) do
      local m = marker_value(page, t[n])
      if m ~= nil then return m end
      if t[n] ~= nil then slot = true end
    end
    -- CES v1: meta_data.marker is the next start
    if t ~= page and t.marker ~= nil then
      local m = marker_value(page, t.marker)
      if m ~= nil then return m end
      slot = true
    end
  end
  return nil, slot
end

-- the answer's next marker: string | false (the answer says there is none)
-- | nil (the answer has no place for one)
local function answer_marker(op, page, position)
  if page.truncated == false or page.truncated == "false" then return false end
  local m, slot = info_marker(page)
  if m ~= nil then return m end
  if type(page.links) == "table" and #page.links == 0 then
    local n = page.links.next
    return type(n) == "string" and url_param(n, position) or false
  end
  -- Glance (IMS glance_*): a top-level next link while there is more
  local fields = op.response and op.response.fields
  if type(page.next) == "string" and page.next ~= "" then
    if page.next:find("[?/]") then return url_param(page.next, position) or false end
    return page.next
  end
  if fields and fields.next and fields.next.type == "string" then return false end
  if slot or schema_info_has(op, NEXT_MARKER) then return false end
  return nil
end

-- "0-9/25", "items 0-9/25": the index of the last row sent and the total
local function content_range(page)
  local v = page["Content-Range"] or page["content-range"]
  if type(v) ~= "string" then return nil end
  local last, total = v:match("(%d+)%s*/%s*(%d+)")
  if not last then return nil end
  return tonumber(last), tonumber(total)
end

local function get(r, s, name)
  local t = s.container and r[s.container] or r
  return type(t) == "table" and t[name] or nil
end

local function set(r, s, name, v)
  local f = s.fields and s.fields[name]
  if f and f.type == "string" and v ~= nil then v = tostring(v) end
  if f and (f.type == "integer" or f.type == "number") then v = tonumber(v) or v end
  if s.container then
    r[s.container] = r[s.container] or {}
    r[s.container][name] = v
  else
    r[name] = v
  end
end

-- a page's likeness, to tell a server that sends the same page again
local function signature(items)
  local n = #items
  if n == 0 then return "0" end
  local function key(it)
    if type(it) ~= "table" then return tostring(it) end
    local id = it.id or it.name or it.key_id or it.alarm_id or it.uid
    if id ~= nil then return tostring(id) end
    local parts = {}
    for k, v in pairs(it) do
      if type(v) ~= "table" then parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
    end
    sort(parts)
    return table.concat(parts, ",")
  end
  return n .. ":" .. key(items[1]) .. ":" .. key(items[n])
end

local function last_id(items)
  local last = items[#items]
  if type(last) ~= "table" then return nil end
  for _, k in ipairs({ "id", "alarm_id", "key_id", "name" }) do
    local v = last[k]
    if type(v) == "string" and v ~= "" then return v end
  end
  return nil
end

local ROWS = { offset = true, start_number = true, from = true }
local PAGES = { offset_page = true, page = true }

-- The steps to the next page. c: { s, r, page, items, count, size, total,
-- last_row, range_total, links_next }; each moves c.r -> "more" | "end" |
-- nil, why

-- a position that counts rows: + the items seen (or the Content-Range end)
local function by_rows(c, field)
  local cur = tonumber(get(c.r, c.s, field)) or 0
  local seen = cur + c.count
  if c.range_total then
    if c.last_row + 1 <= cur then
      return nil, format("the Content-Range end (%d) does not move past %s %d",
        c.last_row, field, cur)
    end
    seen = c.last_row + 1
  elseif c.total then
    if seen >= c.total then return "end" end
  elseif c.size and c.count < c.size then
    return "end"
  end
  set(c.r, c.s, field, seen)
  return "more"
end

-- a position that counts pages, from 1: + 1
local function by_pages(c, field)
  local cur = tonumber(get(c.r, c.s, field)) or 1
  -- without a size asked for, the server's own: the first page's count
  local size, total = c.size or c.first, c.total
  if total and size then
    if cur * size >= total then return "end" end
  elseif not c.links_next and size and c.count < size then
    return "end"
  end
  set(c.r, c.s, field, cur + 1)
  return "more"
end

local function numeric(s, name)
  local f = s.fields and s.fields[name]
  return f and (f.type == "integer" or f.type == "number")
end

-- the answer's marker, else the offset beside it, else a numeric start in
-- rows, else the last item's id
local function by_marker(c, op)
  local s = c.s
  local m = answer_marker(op, c.page, s.position)
  if m == false then return "end" end
  if m == nil and s.offset then
    return (s.unit == "page" and by_pages or by_rows)(c, s.offset)
  end
  if m == nil then
    if c.size and c.count < c.size then return "end" end
    if s.style == "start" and numeric(s, s.position) then return by_rows(c, s.position) end
    m = last_id(c.items)
    if not m then return "end" end
  end
  if m == get(c.r, s, s.position) then
    return nil, format("the next page's %s (%s) is the one just read", s.position, m)
  end
  set(c.r, s, s.position, m)
  return "more"
end

-- moves r to the page after `page` -> "more" | "end" | nil, why
local function advance(op, s, r, page, items, first)
  if #items == 0 then return "end" end
  if page.truncated == false or page.truncated == "false" then return "end" end
  local c = { s = s, r = r, page = page, items = items, count = #items,
              size = s.size and tonumber(get(r, s, s.size)), total = total_of(page),
              first = first }
  c.last_row, c.range_total = content_range(page)
  if c.range_total and c.last_row + 1 >= c.range_total then return "end" end
  if s.style == "marker" or s.style == "start" then return by_marker(c, op) end
  if type(page.links) == "table" and #page.links == 0 then
    -- IAM, DNS: a next link while there is more
    c.links_next = page.links.next
    if type(c.links_next) ~= "string" or c.links_next == "" then return "end" end
  end
  if PAGES[s.style] then return by_pages(c, s.position) end
  if ROWS[s.style] then return by_rows(c, s.position) end
  return "end"
end

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- pages(op, req, run) -> iterator; run(request) performs one call
function _M.pages(op, req, run)
  local s = spec_of(op)
  local r = copy(req)
  if s and s.container and type(r[s.container]) == "table" then
    r[s.container] = copy(r[s.container])
  end
  local done, n, prev, pending, first = false, 0, nil, nil, nil
  return function()
    if pending then
      local err = pending
      pending, done = nil, true
      return false, err
    end
    if done then return nil end
    n = n + 1
    if n > MAX_PAGES then
      done = true
      return false, require("hwcloud.errors").validation("paging",
        format("%s: more than %d pages", tostring(op.name), MAX_PAGES))
    end
    local page, err = run(r)
    if page == nil then
      done = true
      return false, err
    end
    if not s or type(page) ~= "table" then
      done = true
      return page
    end
    local items = items_of(op, page) or {}
    local sig = signature(items)
    if prev and #items > 0 and sig == prev then
      done = true
      return false, require("hwcloud.errors").validation("paging",
        format("%s: the server sent the same page again (%d items): stopped, not looping",
          tostring(op.name), #items))
    end
    prev = sig
    first = first or #items
    local state, why = advance(op, s, r, page, items, first)
    if not state then
      -- this page is good; the one it points to is not: the error next
      pending = require("hwcloud.errors").validation("paging",
        format("%s: %s: stopped, not looping", tostring(op.name), why))
    end
    done = state == "end"
    return page
  end
end

-- each(pages) -> iterator of items
function _M.each(op_pages, op)
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      local page, err = op_pages()
      if page == nil then return nil end
      if page == false then return false, err end
      items, i = items_of(op or {}, page) or {}, 0
    end
  end
end

-- an iterator that yields one error
function _M.failed(err)
  local given = false
  return function()
    if given then return nil end
    given = true
    return false, err
  end
end

return _M
