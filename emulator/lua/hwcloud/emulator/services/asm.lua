-- ASM: one-click experience tasks ("workshops") of a mesh.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"

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

local function create_workshop(ctx)
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
  local m = ctx.store.meshes[ctx.params.mesh_id]
  local out = {}
  if m then
    for i = 1, #m.list do out[i] = { workshop = m.list[i] } end
  end
  return 200, util.array(out)
end

_M.routes = {
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
