-- ServiceStage (v3): add-on actions and the jobs they start.
-- Seed: "Delivering an Add-on Job Based on the Add-on ID"; job shape from the
-- ServiceStage job API (EXECUTION_STATUS may come back in either case).

local S = { type = "string" }

return {
  name = "servicestage",
  host = "servicestage",
  -- the documented default of this service
  content_type = "application/json;charset=utf8",
  operations = {
    deliver_addon_job = {
      method = "POST",
      path = "/v3/{project_id}/cas/environments/{environment_id}/addons/{addon_id}/action",
      request = { type = "object", fields = {
        environment_id = { type = "string", required = true, location = "path" },
        addon_id = { type = "string", required = true, location = "path" },
        action = { type = "string", required = true },      -- e.g. "redeploy", "restart"
      } },
      response = { type = "object", fields = { job_id = S } },
      job = "servicestage",
    },
    show_job = {
      method = "GET",
      path = "/v3/{project_id}/cas/jobs/{job_id}",
      request = { type = "object", fields = {
        job_id = { type = "string", required = true, location = "path" },
        limit = { type = "integer", location = "query" },
        offset = { type = "integer", location = "query" },
        desc = { type = "boolean", location = "query" },
      } },
      response = { type = "object", fields = {
        task_count = { type = "integer" },
        job = { type = "object" },
        tasks = { type = "array", items = { type = "object", fields = {
          task_index = { type = "integer" },
        } } },
      } },
    },
  },
}
