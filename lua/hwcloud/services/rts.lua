-- Resource Template Service v1 (Heat-compatible software configuration):
-- in no official SDK, so wholly described here, from the seed "Creating a
-- Software Deployment" and the RTS API reference. Heat honours only
-- `server_id` when listing deployments. Errors may come Heat-style:
-- {"code":..., "error":{"message":...}}.

local S = { type = "string" }
local STATUS = { type = "string", enum = { "COMPLETE", "IN_PROGRESS", "FAILED" } }
local FREE = { type = "object" }

local DEPLOYMENT = { type = "object", fields = {
  id = S, action = S, config_id = S, server_id = S,
  creation_time = S, updated_time = S,
  input_values = FREE, output_values = FREE,
  status = S, status_reason = S, stack_user_project_id = S,
} }

local IO = { type = "object", fields = {
  name = { type = "string", required = true },
  type = S, description = S, default = { type = "any" },
  error_output = { type = "boolean" },
} }

local IO_OUT = { type = "object", fields = {
  name = S, type = S, description = S, default = { type = "any" },
  error_output = { type = "boolean" },
} }

local CONFIG = { type = "object", fields = {
  id = S, name = S, group = S, config = S, creation_time = S, updated_time = S,
  options = FREE, inputs = { type = "array", items = IO_OUT },
  outputs = { type = "array", items = IO_OUT },
} }

local function path_id() return { type = "string", required = true, location = "path" } end

local one = { type = "object", fields = { software_deployment = DEPLOYMENT } }
local one_config = { type = "object", fields = { software_config = CONFIG } }

return {
  name = "rts",
  title = "Resource Template Service",
  host = "rts",
  api_version = "v1",
  jobs = {
    poll = "show_software_deployment", id_field = "deployment_id",
    id_keys = { "software_deployment.id", "deployment_id" },
    status = { "software_deployment", "status" },
    success = { "COMPLETE" },
    failure = { "FAILED" },
    reason = "status_reason",
  },
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
      } },
      response = { type = "object", fields = {
        software_deployments = { type = "array", items = DEPLOYMENT },
      } },
    },
    create_software_config = {
      method = "POST",
      path = "/v1/{project_id}/software_configs",
      request = { type = "object", fields = {
        name = { type = "string", required = true },
        group = S,
        config = S,
        options = FREE,
        inputs = { type = "array", items = IO },
        outputs = { type = "array", items = IO },
      } },
      response = one_config,
    },
    show_software_config = {
      method = "GET",
      path = "/v1/{project_id}/software_configs/{config_id}",
      request = { type = "object", fields = { config_id = path_id() } },
      response = one_config,
    },
    delete_software_config = {
      method = "DELETE",
      path = "/v1/{project_id}/software_configs/{config_id}",
      request = { type = "object", fields = { config_id = path_id() } },
      response = { type = "any" },
    },
    list_software_configs = {
      method = "GET",
      path = "/v1/{project_id}/software_configs",
      request = { type = "object", fields = {
        limit = { type = "integer", location = "query" },
        marker = { type = "string", location = "query" },
      } },
      response = { type = "object", fields = {
        software_configs = { type = "array", items = CONFIG },
      } },
    },
  },
}
