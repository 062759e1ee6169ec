-- hwcloud.cli.output: what `hwcloud` prints. Every byte goes through a
-- writer that masks the configured secrets; answers are printed as
-- --query selects and --output asks: JSON (indented on a terminal), a
-- table with a header, or tab-separated lines.

local type, pairs, ipairs, tostring, tonumber, setmetatable, getmetatable =
  type, pairs, ipairs, tostring, tonumber, setmetatable, getmetatable
local concat, sort = table.concat, table.sort
local rep, max = string.rep, math.max

local json = require "hwcloud.json"
local common = require "hwcloud.cli.common"
local usage = common.usage
local null = require("cjson").null

local _M = {}

-- writer(fh, secrets) -> function(text): writes text with every secret of
-- the list (filled later, once the configuration is read) as ****
function _M.writer(fh, secrets)
  return function(s)
    for _, sec in ipairs(secrets) do
      local pattern = sec:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
      -- a secret of a few characters is masked where it stands alone, not
      -- inside every word that holds those letters ("SDK-HMAC-SHA256")
      if #sec < 4 then pattern = "%f[%w]" .. pattern .. "%f[%W]" end
      s = s:gsub(pattern, "****")
    end
    fh:write(s)
    if fh.flush then fh:flush() end
  end
end

-- encode(v, indent, schema) -> JSON text, keys sorted
function _M.encode(v, indent, schema)
  return json.encode(v, { indent = indent, schema = schema })
end
local encode = _M.encode

-- lines { name, text } as two aligned columns
function _M.columns(lines, indent)
  local w = 0
  for _, l in ipairs(lines) do if #l[1] > w then w = #l[1] end end
  local out = {}
  for i, l in ipairs(lines) do out[i] = indent .. l[1] .. rep(" ", w - #l[1] + 2) .. l[2] end
  return concat(out, "\n")
end

------------------------------------------------------------------ --query

-- --query PATH: segments split by ".": `name` a field, `name[]` every
-- element of an array field (the rest of the path applies to each),
-- `name[N]` element N (from 0); `[]` alone or first: the answer itself
-- is the array.
local function query_tokens(path)
  local toks = {}
  for seg in path:gmatch("[^.]+") do
    local name, rest = seg:match("^([^%[]*)(.*)$")
    if name ~= "" then toks[#toks + 1] = { key = name } end
    for inner in rest:gmatch("%[([^%]]*)%]") do
      if inner == "" then toks[#toks + 1] = { each = true }
      elseif inner:match("^%d+$") then toks[#toks + 1] = { index = tonumber(inner) + 1 }
      else usage("--query %s: [%s] must be [] or [N]", path, inner) end
    end
    if rest:gsub("%[[^%]]*%]", "") ~= "" then usage("--query %s: cannot read '%s'", path, seg) end
  end
  if #toks == 0 then usage("--query: an empty path") end
  return toks
end

local function select_path(v, toks, i)
  i = i or 1
  local t = toks[i]
  if t == nil or v == nil or v == null then return v end
  if type(v) ~= "table" then return nil end
  if t.key then return select_path(v[t.key], toks, i + 1) end
  if t.index then return select_path(v[t.index], toks, i + 1) end
  local out = setmetatable({}, json.array_mt)
  for _, el in ipairs(v) do
    local r = select_path(el, toks, i + 1)
    if r ~= nil then out[#out + 1] = r end
  end
  return out
end

------------------------------------------------------------------ rows

-- a scalar as a table cell
local function cell(v)
  if v == nil or v == null then return "" end
  if type(v) == "table" then return encode(v, false) end
  return (tostring(type(v) == "number" and json.number(v) or v):gsub("[\t\n]", " "))
end

-- rows of a value for table and tsv: an array of objects is one row each
-- (columns: their keys, sorted); an array of scalars one row each; an
-- object one row of key and value per field. -> header, rows
local function rows_of(v)
  if type(v) ~= "table" then return nil, { { cell(v) } } end
  if json.is_array(v) or getmetatable(v) == json.array_mt then
    local keys, seen, objects = {}, {}, true
    for _, el in ipairs(v) do
      if type(el) ~= "table" or json.is_array(el) then objects = false break end
      for k in pairs(el) do
        if not seen[k] then seen[k] = true keys[#keys + 1] = tostring(k) end
      end
    end
    local rows = {}
    if objects and #keys > 0 then
      sort(keys)
      for i, el in ipairs(v) do
        local r = {}
        for j, k in ipairs(keys) do r[j] = cell(el[k]) end
        rows[i] = r
      end
      return keys, rows
    end
    for i, el in ipairs(v) do rows[i] = { cell(el) } end
    return nil, rows
  end
  local rows = {}
  for i, k in ipairs(json.sorted_keys(v)) do rows[i] = { k, cell(v[k]) } end
  return nil, rows
end

local function table_lines(header, rows)
  local all = {}
  if header then all[1] = header end
  for _, r in ipairs(rows) do all[#all + 1] = r end
  local width = {}
  for _, r in ipairs(all) do
    for j, c in ipairs(r) do width[j] = max(width[j] or 0, #c) end
  end
  local lines = {}
  for i, r in ipairs(all) do
    local parts = {}
    for j, c in ipairs(r) do parts[j] = j < #r and c .. rep(" ", width[j] - #c) or c end
    lines[#lines + 1] = concat(parts, "  ")
    if header and i == 1 then
      local dash = {}
      for j = 1, #r do dash[j] = rep("-", width[j]) end
      lines[#lines + 1] = concat(dash, "  ")
    end
  end
  return lines
end

_M.OUTPUTS = { "json", "table", "tsv" }
local OUTPUTS = { json = true, table = true, tsv = true }

-- answer(ctx, v, schema): the answer as --query and --output ask
function _M.answer(ctx, v, schema)
  local opts = ctx.opts or {}
  if ctx.select then
    v = select_path(v, query_tokens(ctx.select))
    schema = nil
    if v == nil then v = null end
  end
  local out = opts.output or "json"
  if not OUTPUTS[out] then usage("--output: expected json, table or tsv, got '%s'", out) end
  if out == "json" then
    ctx.out(encode(v, ctx.indent, schema) .. "\n")
    return
  end
  local header, rows = rows_of(v)
  local lines
  if out == "tsv" then
    lines = {}
    for i, r in ipairs(rows) do lines[i] = concat(r, "\t") end
  else
    lines = table_lines(header, rows)
  end
  if #lines > 0 then ctx.out(concat(lines, "\n") .. "\n") end
end

return _M
