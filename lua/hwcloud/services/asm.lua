-- Application Service Mesh v1: the mesh operations of the official SDKs
-- (generated), plus the one-click experience tasks ("workshops") that no SDK
-- has, from the seed "Creating a One-Click Experience Task" and the ASM API
-- reference. Errors are camelCase (errorCode/errorMsg, codes like
-- ASM.01010002). Paths carry no {project_id}: X-Project-Id says it.

local S = { type = "string" }

local function ingress(required)
  return { type = "object", fields = {
    elbId = { type = "string", required = required },
    elbIp = { type = "string", required = required },
    port = { type = "integer", required = required },
    imageAddress = S,
  } }
end

local function workshop()
  return { type = "object", fields = {
    description = S,
    metadata = { type = "object", fields = {
      name = S, uid = S, creationTimestamp = S,
    } },
    spec = { type = "object", fields = {
      primaryCluster = S,
      ingress = ingress(false),
    } },
    status = { type = "object", fields = { updateTime = S } },
  } }
end

return {
  name = "asm",
  title = "Application Service Mesh",
  host = "asm",
  operations = {
    create_workshop = {
      method = "POST",
      path = "/v2/meshes/{mesh_id}/workshops",
      request = { type = "object", fields = {
        mesh_id = { type = "string", required = true, location = "path" },
        description = S,
        metadata = { type = "object", required = true, fields = {
          name = { type = "string", required = true },
        } },
        spec = { type = "object", required = true, fields = {
          primaryCluster = { type = "string", required = true },
          ingress = (function()
            local i = ingress(true)
            i.required = true
            return i
          end)(),
        } },
      } },
      response = workshop(),
    },
    list_workshops = {
      method = "GET",
      path = "/v2/meshes/{mesh_id}/workshops",
      request = { type = "object", fields = {
        mesh_id = { type = "string", required = true, location = "path" },
      } },
      response = { type = "array", items = { type = "object", fields = {
        workshop = workshop(),
      } } },
    },
  },
}
