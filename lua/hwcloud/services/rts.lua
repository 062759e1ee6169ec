-- Resource Template Service (Heat-compatible) software deployments.
-- Seed: "Creating One or More Software Deployments"; show/update/delete/list
-- follow the same API family. Errors may come Heat-style:
-- {"code":400,"error":{"message":...,"type":...}}.

local S = { type = "string" }
local STATUS = { type = "string", enum = { "COMPLETE", "IN_PROGRESS", "FAILED" } }
local FREE = { type = "object" }

local function deployment()
  return { type = "object", fields = {
    id = S, action = S, config_id = S, server_id = S,
    creation_time = S, updated_time = S,
    input_values = FREE, output_values = FREE,
    status = S, status_reason = S, stack_user_project_id = S,
  } }
end

local function path_id()
  return { type = "string", required = true, location = "path" }
end

local one = { type = "object", fields = { software_deployment = deployment() } }

return {
  name = "rts",
  host = "rts",
  content_type = "application/json",
  operations = {
    create_software_deployment = {
      method = "POST",
      path = "/v1/{project_id}/software_deployments",
      request = { type = "object", fields = {
        config_id = { type = "string", required = true },
        server_id = { type = "string", required = true },
        action = S,
        input_values = FREE,
        stack_user_project_id = S,
        status = STATUS,
        status_reason = S,
      } },
      response = one,
      job = "rts",
    },
    show_software_deployment = {
      method = "GET",
      path = "/v1/{project_id}/software_deployments/{deployment_id}",
      request = { type = "object", fields = { deployment_id = path_id() } },
      response = one,
      job = "rts",
    },
    update_software_deployment = {
      method = "PUT",
      path = "/v1/{project_id}/software_deployments/{deployment_id}",
      idempotent = true,   -- a PUT of the same state may safely be sent twice
      request = { type = "object", fields = {
        deployment_id = path_id(),
        config_id = S,
        action = S,
        input_values = FREE,
        output_values = FREE,
        status = STATUS,
        status_reason = S,
      } },
      response = one,
      job = "rts",
    },
    delete_software_deployment = {
      method = "DELETE",
      path = "/v1/{project_id}/software_deployments/{deployment_id}",
      request = { type = "object", fields = { deployment_id = path_id() } },
      response = { type = "any" },
    },
    list_software_deployments = {
      method = "GET",
      path = "/v1/{project_id}/software_deployments",
      request = { type = "object", fields = {
        server_id = { type = "string", location = "query" },
        limit = { type = "integer", location = "query" },
        marker = { type = "string", location = "query" },
      } },
      response = { type = "object", fields = {
        software_deployments = { type = "array", items = deployment() },
      } },
    },
  },
}
