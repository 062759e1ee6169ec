-- ServiceStage (v3): add-on actions and the jobs they start.
-- Seed: "Delivering an Add-on Job Based on the Add-on ID"; job shape from the
-- ServiceStage job API (EXECUTION_STATUS may come back in either case).

local S = { type = "string" }
local I = { type = "integer" }

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
      -- the service documents upper-case names inside job and tasks and has
      -- answered in lower case too: both spellings are listed so that their
      -- integers come back as integers (unlisted fields pass through as is)
      response = { type = "object", fields = {
        task_count = { type = "integer" },
        job = { type = "object", fields = {
          CREATED_AT = I, UPDATED_AT = I, created_at = I, updated_at = I,
        } },
        tasks = { type = "array", items = { type = "object", fields = {
          TASK_INDEX = I, CREATED_AT = I, UPDATED_AT = I,
          task_index = I, created_at = I, updated_at = I,
        } } },
      } },
    },
  },
}
