-- hwcloud.services: the registry of service descriptions.
--
-- A service is one description, lua/hwcloud/services/<name>.lua: what no SDK
-- says (hosts for unlisted regions, jobs, idempotency, the error shape,
-- operations no SDK has, aliases), on top of the operations generated from
-- the official SDKs (lua/hwcloud/services/gen/<name>.lua, named by
-- `generated`). index.lua, generated from the folder, lists the services, so
-- adding one is a regeneration. Everything loads lazily: requiring this
-- module reads no file. A loaded service is prepared once: model references
-- resolved (shared, never copied), every object given its field `order`.

local pairs, ipairs, type, require, pcall, tostring, next, setmetatable =
  pairs, ipairs, type, require, pcall, tostring, next, setmetatable
local sort = table.sort
local format = string.format

local _M = {}

local cache = {}
local index -- hwcloud.services.index, once asked for

local function get_index()
  if not index then index = require "hwcloud.services.index" end
  return index
end

-- Adds `order` (sorted field names) to every object schema that has fields,
-- so the C marshaller emits JSON in a stable order without sorting per call.
-- Shared and recursive schemas are visited once.
local function prepare(schema, seen)
  if type(schema) ~= "table" then return schema end
  seen = seen or {}
  if seen[schema] then return schema end
  seen[schema] = true
  if schema.fields then
    local order = {}
    for name, sub in pairs(schema.fields) do
      order[#order + 1] = name
      prepare(sub, seen)
    end
    sort(order)
    schema.order = order
  end
  if schema.items then prepare(schema.items, seen) end
  if schema.values then prepare(schema.values, seen) end
  return schema
end
_M.prepare = prepare

-- Replaces every {ref = "Model"} node by the model's own table, so models
-- are shared by reference. A node that adds keys to its ref (required,
-- location) becomes a shallow copy that shares the model's fields.
local function resolver(models, where)
  local done = {}
  local resolve

  local function node(n)
    if type(n) ~= "table" then return n end
    local ref = n.ref
    if ref == nil then
      resolve(n)
      return n
    end
    local m = models[ref]
    if not m then error(format("hwcloud: %s refers to unknown model '%s'", where, tostring(ref)), 0) end
    resolve(m)
    if next(n, nil) == "ref" and next(n, "ref") == nil then return m end
    local copy = {}
    for k, v in pairs(m) do copy[k] = v end
    for k, v in pairs(n) do if k ~= "ref" then copy[k] = v end end
    return copy
  end

  function resolve(n)
    if done[n] then return end
    done[n] = true
    local fields = n.fields
    if fields then
      for name, sub in pairs(fields) do fields[name] = node(sub) end
    end
    if n.items then n.items = node(n.items) end
    if n.values then n.values = node(n.values) end
  end

  return node
end

-- the names of every described service, sorted
function _M.names()
  local list = {}
  for i, n in ipairs(get_index().services) do list[i] = n end
  return list
end

function _M.known(name)
  return type(name) == "string" and get_index().set[name] == true
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- An overlay entry for an operation the generated part has: its keys win,
-- and `fields` adds to (or replaces single) request fields.
local function patch(op, p)
  op = copy(op)
  for k, v in pairs(p) do
    if k == "fields" then
      local req = copy(op.request or { type = "object", fields = {} })
      local fields = copy(req.fields or {})
      for fname, f in pairs(v) do
        if f == false then fields[fname] = nil else fields[fname] = f end
      end
      req.fields = fields
      op.request = req
    else
      op[k] = v
    end
  end
  return op
end

local function has_fields(schema, a, b)
  local fields = type(schema) == "table" and schema.fields
  return fields and fields[a] ~= nil and (b == nil or fields[b] ~= nil) or false
end

-- the models of a service, the generated ones under its description's;
-- the models only answers use are in a companion file, read when an
-- answer's schema first needs one of them
local function service_models(gen, desc)
  local models = {}
  local function add(list) for k, v in pairs(list or {}) do models[k] = v end end
  add(gen.models)
  add(desc.models)
  if gen.response_models then
    local companion = "hwcloud.services.gen." .. gen.response_models
    setmetatable(models, { __index = function(_, k)
      setmetatable(models, nil)
      add(require(companion).models)
      return rawget(models, k)
    end })
  end
  return models
end

local function service_of(name, desc, gen, models)
  local svc = {
    name = name,
    title = desc.title or name,
    api_version = desc.api_version or gen.api_version,
    sdk_name = desc.sdk_name or name,
    host = desc.host or name,
    host_intl = desc.host_intl,
    global = desc.global or false,
    content_type = desc.content_type or "application/json",
    error_shape = desc.error_shape,
    regions = {},
    source = gen.source,
    jobs = desc.jobs,
    aliases = desc.aliases or {},
    models = models,
    operations = {},
  }
  for region, urls in pairs(gen.regions or {}) do svc.regions[region] = urls end
  for region, urls in pairs(desc.regions or {}) do svc.regions[region] = urls end
  return svc
end

-- the generated operations with the description's patches and additions
local function merge_operations(name, svc, gen, desc)
  local ops = svc.operations
  -- the generated tables are this service's own (a module loaded once)
  for opname, op in pairs(gen.operations or {}) do ops[opname] = op end
  for opname, p in pairs(desc.operations or {}) do
    if ops[opname] then
      ops[opname] = patch(ops[opname], p)
    else
      if not (p.method and p.path) then
        error(format("hwcloud: %s.%s patches an operation the SDK does not have", name, opname), 0)
      end
      ops[opname] = copy(p)
    end
  end
  for opname, op in pairs(ops) do
    op.name = opname
    op.service = name
    if not op.content_type then op.content_type = svc.content_type end
  end
  return ops
end

-- svc.ready(op): resolves and prepares one operation's schemas. They are
-- prepared per operation, on first use: loading a service with hundreds
-- of operations then costs little more than reading its file
local function readier(name, desc, svc, models)
  local node = resolver(models, name)
  local seen = {}
  return function(op)
    local req = op.request
    -- an operation without parameters is an empty closed object
    if req == nil or (req.fields == nil and req.ref == nil) then
      req = { type = "object", fields = {} }
    end
    op.request = prepare(node(req), seen)
    if op.response then op.response = prepare(node(op.response), seen) end
    -- a service-wide rule (CodeArts Build's 200 with status "fail") for
    -- the operations whose answer has the fields it reads
    local f = desc.failure
    if f and op.failure == nil and has_fields(op.response, f.field, f.message) then
      op.failure = f
    end
    -- the operations whose answer names a job of this service start one
    local j = svc.jobs
    if j and j.started_field and op.job == nil and op.method ~= "GET"
      and has_fields(op.response, j.started_field) then
      op.job = name
    end
    op.ready = true
    return op
  end
end

-- svc.operations[name] is always ready for use; listing goes through
-- operation_names (the raw table holds every operation)
local function ready_operations(svc, ops)
  return setmetatable({}, { __index = function(t, k)
    local op = ops[k]
    if op == nil then
      -- an alias finds its operation
      op = svc.aliases[k] and ops[svc.aliases[k]]
      if op == nil then return nil end
    end
    if not op.ready then svc.ready(op) end
    rawset(t, k, op)
    return op
  end })
end

local function check_aliases(name, svc, ops)
  for alias, target in pairs(svc.aliases) do
    if ops[alias] then
      error(format("hwcloud: %s alias '%s' hides an operation", name, alias), 0)
    end
    if not ops[target] then
      error(format("hwcloud: %s alias '%s' names no operation '%s'", name, alias, target), 0)
    end
  end
end

local function build(name)
  local desc = require("hwcloud.services." .. name)
  local gen = desc.generated and require("hwcloud.services.gen." .. desc.generated) or {}
  local models = service_models(gen, desc)
  local svc = service_of(name, desc, gen, models)
  local ops = merge_operations(name, svc, gen, desc)
  svc.ready = readier(name, desc, svc, models)
  svc.all = ops
  svc.operations = ready_operations(svc, ops)
  check_aliases(name, svc, ops)
  return svc
end

-- load(name) -> service | nil, message
function _M.load(name)
  local svc = cache[name]
  if svc then return svc end
  if not _M.known(name) then return nil, "unknown service '" .. tostring(name) .. "'" end
  local ok, res = pcall(build, name)
  if not ok then error(res, 2) end
  cache[name] = res
  return res
end

-- every model of a service, the ones only answers use included
function _M.models(svc)
  local _ = svc.models[false] -- reads the companion, if there is one
  return svc.models
end

-- operation(svc, name) -> op | nil: an operation by its name or an alias,
-- its schemas resolved (model references replaced by the shared models)
-- and prepared
function _M.operation(svc, name)
  if type(name) ~= "string" then return nil end
  local op = svc.operations[name]
  if op then return op end
  local target = svc.aliases[name]
  return target and svc.operations[target] or nil
end

-- the operation names of a service and its aliases, sorted
function _M.operation_names(svc)
  local names = {}
  for n in pairs(svc.all) do names[#names + 1] = n end
  for n in pairs(svc.aliases) do names[#names + 1] = n end
  sort(names)
  return names
end

return setmetatable(_M, { __name = "hwcloud.services" })
