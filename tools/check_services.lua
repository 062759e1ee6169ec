-- Checks generated service descriptions: each file loads, every schema node
-- uses only the known keys and values, and every `ref` names a model of the
-- same file. Usage: lua5.4 tools/check_services.lua [file...]
-- (default: every lua/hwcloud/services/gen/*.lua). Exits 1 on any problem.

local NODE_KEYS = {
  type = true, required = true, location = true, enum = true,
  items = true, values = true, fields = true, ref = true,
}
local TYPES = {
  string = true, integer = true, number = true, boolean = true, file = true,
  array = true, object = true, map = true, any = true,
}
local LOCATIONS = { path = true, query = true, header = true, whole_body = true }
local AUTO_PATH = { project_id = true, domain_id = true }
local OP_KEYS = {
  sdk_operation = true, method = true, path = true, content_type = true, body_model = true,
  request = true, response = true, response_headers = true, paging = true, answer = true,
}
local PAGING_STYLES = {
  offset = true, offset_page = true, marker = true, page = true, start_number = true,
  start = true, from = true,
}

local function check_node(node, where, models, problems)
  if type(node) ~= "table" then
    problems[#problems + 1] = where .. ": not a table"
    return
  end
  for k in pairs(node) do
    if not NODE_KEYS[k] then
      problems[#problems + 1] = where .. ": unknown key " .. tostring(k)
    end
  end
  if node.ref ~= nil then
    if models[node.ref] == nil then
      problems[#problems + 1] = where .. ": ref " .. tostring(node.ref) .. " is not a model"
    end
    if node.type ~= nil or node.fields ~= nil then
      problems[#problems + 1] = where .. ": a ref with type or fields"
    end
  elseif not TYPES[node.type] then
    problems[#problems + 1] = where .. ": bad type " .. tostring(node.type)
  end
  if node.required ~= nil and node.required ~= true then
    problems[#problems + 1] = where .. ": required is only ever true"
  end
  if node.location ~= nil and not LOCATIONS[node.location] then
    problems[#problems + 1] = where .. ": bad location " .. tostring(node.location)
  end
  if node.enum ~= nil and (type(node.enum) ~= "table" or #node.enum == 0) then
    problems[#problems + 1] = where .. ": enum must be a non-empty list"
  end
  if node.items ~= nil then check_node(node.items, where .. ".items", models, problems) end
  if node.values ~= nil then check_node(node.values, where .. ".values", models, problems) end
  if node.type == "array" and node.items == nil then
    problems[#problems + 1] = where .. ": array without items"
  end
  if node.type == "map" and node.values == nil then
    problems[#problems + 1] = where .. ": map without values"
  end
  if node.fields ~= nil then
    if next(node.fields) == nil then
      problems[#problems + 1] = where .. ": empty fields"
    end
    for name, sub in pairs(node.fields) do
      check_node(sub, where .. "." .. tostring(name), models, problems)
    end
  end
end

-- paging: {style, location, position[, size]}, position a request field
local function check_paging(op, where, problems)
  local pg = op.paging
  if pg == nil then return end
  local fields = type(op.request) == "table" and op.request.fields or {}
  if type(pg) ~= "table" or not PAGING_STYLES[pg.style]
      or (pg.location ~= "query" and pg.location ~= "body")
      or type(pg.position) ~= "string" or not fields[pg.position]
      or (pg.offset ~= nil and not (type(pg.offset) == "string" and pg.offset:match(":[pagerow]+$"))) then
    problems[#problems + 1] = where .. ": paging must name a style, a location and a request field"
  end
end

local function check_file(path)
  local problems = {}
  local ok, desc = pcall(dofile, path)
  if not ok then return { path .. ": " .. tostring(desc) } end
  if type(desc) ~= "table" then return { path .. ": does not return a table" } end
  for _, k in ipairs({ "service", "api_version", "source", "regions", "models", "operations" }) do
    if desc[k] == nil then problems[#problems + 1] = path .. ": missing " .. k end
  end
  if #problems > 0 then return problems end
  local models, nops, nmodels = {}, 0, 0
  for name, node in pairs(desc.models) do models[name] = node end
  -- the models only answers use live in a companion file beside this one
  if desc.response_models ~= nil then
    local cpath = path:gsub("[^/]*%.lua$", "") .. desc.response_models .. ".lua"
    local cok, extra = pcall(dofile, cpath)
    if not cok or type(extra) ~= "table" or type(extra.models) ~= "table" then
      return { path .. ": response_models " .. tostring(desc.response_models) .. " does not load" }
    end
    for name, node in pairs(extra.models) do
      if models[name] ~= nil then
        problems[#problems + 1] = cpath .. ": model " .. name .. " is in both files"
      end
      models[name] = node
    end
  end
  for name, node in pairs(models) do
    nmodels = nmodels + 1
    check_node(node, path .. ": models." .. name, models, problems)
  end
  for region, hosts in pairs(desc.regions) do
    if type(hosts) ~= "table" or #hosts == 0 then
      problems[#problems + 1] = path .. ": region " .. region .. " without endpoints"
    end
  end
  for name, op in pairs(desc.operations) do
    nops = nops + 1
    local where = path .. ": operations." .. name
    for k in pairs(op) do
      if not OP_KEYS[k] then problems[#problems + 1] = where .. ": unknown key " .. k end
    end
    if type(op.method) ~= "string" or type(op.path) ~= "string" then
      problems[#problems + 1] = where .. ": method and path are required"
    end
    if op.body_model ~= nil and models[op.body_model] == nil then
      problems[#problems + 1] = where .. ": body_model " .. op.body_model .. " is not a model"
    end
    check_paging(op, where, problems)
    check_node(op.request, where .. ".request", models, problems)
    if op.response ~= nil then check_node(op.response, where .. ".response", models, problems) end
    -- Every {name} of the path must be a path field of the request, but
    -- project_id and domain_id, which the credentials fill in.
    for param in op.path:gmatch("{([^}]+)}") do
      local f = op.request.fields and op.request.fields[param]
      if not AUTO_PATH[param] and (not f or f.location ~= "path") then
        problems[#problems + 1] = where .. ": path parameter " .. param .. " is not a path field"
      end
    end
  end
  if #problems == 0 then
    print(string.format("ok %s: %d operations, %d models", path, nops, nmodels))
  end
  return problems
end

local files = { ... }
if #files == 0 then
  local p = io.popen("ls lua/hwcloud/services/gen/*.lua 2>/dev/null")
  if p then
    for line in p:lines() do files[#files + 1] = line end
    p:close()
  end
end
if #files == 0 then
  io.stderr:write("check_services: no files\n")
  os.exit(1)
end
local failed = false
for _, path in ipairs(files) do
  -- a companion of models is checked with the description that names it
  if path:find("_responses%.lua$") then goto next_file end
  for _, msg in ipairs(check_file(path)) do
    io.stderr:write(msg, "\n")
    failed = true
  end
  ::next_file::
end
os.exit(failed and 1 or 0)
