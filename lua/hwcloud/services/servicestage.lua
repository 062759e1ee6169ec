-- ServiceStage v3: the operations of the official SDKs (generated), plus the
-- add-on operations that no SDK has, from the ServiceStage API reference
-- (the seed "Delivering an Add-on Job Based on the Add-on ID", add-on list
-- and detail), and what a job is. Job fields may come back in either case.

local S = { type = "string" }

local function path_id() return { type = "string", required = true, location = "path" } end

local ADDON = { type = "object", fields = {
  id = S, name = S, version = S, cce_id = S, cse_id = S, job_id = S,
  environment_id = S, status = S,
} }

return {
  name = "servicestage",
  title = "ServiceStage (v3)",
  host = "servicestage",
  -- the documented default of this service, for the hand-written operations
  content_type = "application/json;charset=utf8",
  aliases = { show_job = "show_job_info" },
  jobs = {
    poll = "show_job_info", id_field = "job_id", started_field = "job_id",
    status = { "job", "execution_status" },
    success = { "SUCCEEDED" },
    failure = { "FAILED", "CANCELLED", "PARTIALLY_FAILED", "ROLLBACKED", "UNKNOWN" },
    reason = "tasks",
  },
  operations = {
    deliver_addon_job = {
      method = "POST",
      path = "/v3/{project_id}/cas/environments/{environment_id}/addons/{addon_id}/action",
      request = { type = "object", fields = {
        environment_id = path_id(),
        addon_id = path_id(),
        action = { type = "string", required = true, enum = { "restart", "redeploy" } },
      } },
      response = { type = "object", fields = { job_id = S } },
    },
    list_addons = {
      method = "GET",
      path = "/v3/{project_id}/cas/environments/{environment_id}/addons",
      request = { type = "object", fields = { environment_id = path_id() } },
      response = { type = "object", fields = { addons = { type = "array", items = ADDON } } },
    },
    show_addon = {
      method = "GET",
      path = "/v3/{project_id}/cas/environments/{environment_id}/addons/{addon_id}",
      request = { type = "object", fields = { environment_id = path_id(), addon_id = path_id() } },
      response = ADDON,
    },
  },
}
