-- ASM: the meshes of the inventory (list, show) and their one-click
-- experience tasks ("workshops"). In a strict inventory (see
-- hwcloud.emulator.inventory) workshops exist only in its meshes; else in
-- any mesh id.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"

local ipairs = ipairs

local null = util.null

local _M = { name = "asm" }

local function mesh(store, id)
  local m = store.meshes[id]
  if not m then
    m = { list = {}, by_name = {} }
    store.meshes[id] = m
  end
  return m
end

local function or_null(v)
  if v == nil then return null end
  return v
end

local function meshes(ctx) return inventory.of(ctx.store).asm.meshes end

local function mesh_not_found(id)
  return 404, errors.body("asm", 404, "The mesh " .. id .. " does not exist", "ASM.01010002")
end

-- The inventory's mesh item as the API shows it.
local function mesh_view(m)
  local clusters = {}
  for i, c in ipairs(m.clusters or {}) do
    clusters[i] = { clusterID = c, installation = { nodes = { fieldSelector = {
      key = "UID", operator = "In", values = util.array({}) } } } }
  end
  local stamp = m.creationTimestamp or "2026-11-01T00:00:00Z"
  return {
    apiVersion = "v1", kind = "Mesh",
    metadata = { name = m.name or m.id, uid = m.id, creationTimestamp = stamp,
                 annotations = {}, labels = {} },
    spec = { type = m.type or "InCluster", version = m.version or "1.15.5-r1",
             ipv6Enable = false, extendParams = { clusters = util.array(clusters) },
             tags = util.array({}) },
    status = { phase = m.phase or "Running", updateTimestamp = stamp },
  }
end

local function list_meshes(ctx)
  local out = {}
  for i, m in ipairs(meshes(ctx)) do out[i] = mesh_view(m) end
  return 200, { apiVersion = "v1", kind = "List", items = util.array(out) }
end

local function show_mesh(ctx)
  local m = inventory.find(meshes(ctx), ctx.params.mesh_id)
  if not m then return mesh_not_found(ctx.params.mesh_id) end
  return 200, mesh_view(m)
end

local function unknown_mesh(ctx)
  return inventory.strict(ctx.store) and not inventory.find(meshes(ctx), ctx.params.mesh_id)
end

local function create_workshop(ctx)
  if unknown_mesh(ctx) then return mesh_not_found(ctx.params.mesh_id) end
  local body = ctx.body
  local m = mesh(ctx.store, ctx.params.mesh_id)
  local name = body.metadata.name
  if m.by_name[name] then
    return 409, errors.body("asm", 409, "The workshop " .. name .. " already exists in mesh "
                            .. ctx.params.mesh_id, "ASM.01010003")
  end
  local ingress = body.spec.ingress
  local stamp = util.iso8601(ctx.now)
  local ws = {
    description = or_null(body.description),
    metadata = { name = name, uid = util.uuid4(), creationTimestamp = stamp },
    spec = {
      primaryCluster = body.spec.primaryCluster,
      ingress = {
        elbId = ingress.elbId,
        elbIp = ingress.elbIp,
        port = ingress.port,
        imageAddress = or_null(ingress.imageAddress),
      },
    },
    status = { updateTime = stamp },
  }
  m.by_name[name] = ws
  m.list[#m.list + 1] = ws
  return 200, ws
end

local function list_workshops(ctx)
  if unknown_mesh(ctx) then return mesh_not_found(ctx.params.mesh_id) end
  local m = ctx.store.meshes[ctx.params.mesh_id]
  local out = {}
  if m then
    for i = 1, #m.list do out[i] = { workshop = m.list[i] } end
  end
  return 200, util.array(out)
end

_M.routes = {
  { op = "list_meshes", method = "GET", path = "/v1/{project_id}/meshes", handler = list_meshes },
  { op = "show_mesh", method = "GET", path = "/v1/{project_id}/meshes/{mesh_id}",
    handler = show_mesh },
  {
    op = "create_workshop", method = "POST",
    path = "/v2/meshes/{mesh_id}/workshops",
    body = { type = "object", fields = {
      description = { type = "string" },
      metadata = { type = "object", required = true, fields = {
        name = { type = "string", required = true },
      } },
      spec = { type = "object", required = true, fields = {
        primaryCluster = { type = "string", required = true },
        ingress = { type = "object", required = true, fields = {
          elbId = { type = "string", required = true },
          elbIp = { type = "string", required = true },
          port = { type = "integer", required = true },
          imageAddress = { type = "string" },
        } },
      } },
    } },
    handler = create_workshop,
  },
  {
    op = "list_workshops", method = "GET",
    path = "/v2/meshes/{mesh_id}/workshops",
    handler = list_workshops,
  },
}

return _M
