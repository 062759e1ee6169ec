-- hwcloud.services: loads a service's schema lazily and prepares it once.
-- Schemas are data (lua/hwcloud/services/<name>.lua); see doc/internals.md.

local pairs, type, require, sort = pairs, type, require, table.sort

local _M = {}

local known = {
  servicestage = true, codeartsbuild = true, asm = true, rts = true,
  workspaceapp = true, iam = true,
}

local cache = {}

-- Adds `order` (sorted field names) to every object schema that has fields,
-- so the C marshaller emits JSON in a stable order without sorting per call.
local function prepare(schema)
  if type(schema) ~= "table" then return schema end
  if schema.fields then
    local order = {}
    for name, sub in pairs(schema.fields) do
      order[#order + 1] = name
      prepare(sub)
    end
    sort(order)
    schema.order = order
  end
  if schema.items then prepare(schema.items) end
  return schema
end
_M.prepare = prepare

function _M.names()
  local list = {}
  for name in pairs(known) do list[#list + 1] = name end
  sort(list)
  return list
end

function _M.load(name)
  local svc = cache[name]
  if svc then return svc end
  if not known[name] then return nil, "unknown service '" .. tostring(name) .. "'" end
  svc = require("hwcloud.services." .. name)
  for opname, op in pairs(svc.operations) do
    op.name = opname
    op.service = svc.name
    prepare(op.request)
    prepare(op.response)
  end
  cache[name] = svc
  return svc
end

return _M
