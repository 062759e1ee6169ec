-- hwcloud.pager: client:pages and client:each over any list operation.
-- The style comes from the operation's request fields: offset/limit,
-- marker/limit, or a page number with a page size. The items are the
-- answer's array (the answer itself when it is one).
--
--   for page, err in client:pages("workspaceapp", "list_servers", { limit = 50 }) do
--     if not page then error(tostring(err)) end
--   end
-- An error ends the iteration after one (false, err).

local type, pairs, ipairs, next, sort = type, pairs, ipairs, next, table.sort

local _M = {}

local MAX_PAGES = 100000 -- a server that never stops must not loop forever

local PAGE_NUMBER = { "page", "page_index", "page_no", "page_num", "pageNo", "pageIndex",
                      "page_number", "current_page" }
local PAGE_SIZE = { "page_size", "pageSize", "per_page", "limit", "size" }
local TOTAL = { "total", "count", "total_count", "totalCount", "total_num" }
local NEXT_MARKER = { "next_marker", "nextMarker", "marker" }

local function first(fields, names)
  for _, n in ipairs(names) do
    local f = fields[n]
    if f and f.location == "query" then return n end
  end
  return nil
end

-- how the operation pages: style, fields
local function style_of(op)
  local fields = op.request and op.request.fields or {}
  if first(fields, { "offset" }) then
    return "offset", { offset = "offset", size = first(fields, { "limit", "page_size" }) }
  end
  if first(fields, { "marker" }) then
    return "marker", { marker = "marker", size = first(fields, { "limit", "page_size" }) }
  end
  local page = first(fields, PAGE_NUMBER)
  if page then return "page", { page = page, size = first(fields, PAGE_SIZE) } end
  return nil
end
_M.style_of = style_of

-- the list in an answer: the answer if it is one, else its one array
-- field (by the response schema when it names one, else by the data)
local function items_of(op, page)
  if type(page) ~= "table" then return nil end
  if #page > 0 then return page end
  local schema = op.response and op.response.fields
  local names = {}
  if schema then
    for name, f in pairs(schema) do
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
  sort(names)
  for _, name in ipairs(names) do
    if type(page[name]) == "table" then return page[name] end
  end
  return {}
end
_M.items_of = items_of

local function number_in(page, names)
  for _, n in ipairs(names) do
    local v = page[n]
    if type(v) == "number" then return v end
  end
  return nil
end

local function next_marker(page, items)
  local info = type(page.page_info) == "table" and page.page_info or page
  for _, n in ipairs(NEXT_MARKER) do
    local v = info[n]
    if type(v) == "string" and v ~= "" then return v end
  end
  local last = items[#items]
  if type(last) == "table" and type(last.id) == "string" then return last.id end
  return nil
end

-- whether a page of `count` items is the last, before looking for the next
-- page's position: no paging style, an empty page, or a short one
local function short_page(style, f, r, count)
  local size = f and f.size and r[f.size]
  return not style or count == 0 or (type(size) == "number" and count < size)
end

-- moves r to the page after `page`; true when that page is known to be past
-- the end (the total is reached, or the marker does not move)
local function advance(style, f, r, page, items)
  local total = type(page) == "table" and number_in(page, TOTAL)
  if style == "offset" then
    local seen = (r.offset or 0) + #items
    r.offset = seen
    return total and seen >= total or false
  elseif style == "marker" then
    local m = next_marker(page, items)
    local last = not m or m == r.marker
    r.marker = m
    return last
  end
  local size = f.size and r[f.size]
  local p = r[f.page] or 1
  r[f.page] = p + 1
  return (total and size and p * size >= total) and true or false
end

-- pages(op, req, run) -> iterator; run(request) performs one call
function _M.pages(op, req, run)
  local style, f = style_of(op)
  local r = {}
  for k, v in pairs(req or {}) do r[k] = v end
  local done, n = false, 0
  return function()
    if done then return nil end
    n = n + 1
    if n > MAX_PAGES then done = true return nil end
    local page, err = run(r)
    if page == nil then
      done = true
      return false, err
    end
    local items = items_of(op, page) or {}
    if short_page(style, f, r, #items) then
      done = true
      return page
    end
    done = advance(style, f, r, page, items)
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
