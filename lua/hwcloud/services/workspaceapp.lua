-- Workspace application servers: reinstall, and the job it starts.
-- Seed: "Reinstalling a Server". Chinese-mainland regions are served by the
-- `appstream` host, the others by `workspace`.

local S = { type = "string" }

return {
  name = "workspaceapp",
  host = "appstream",
  host_intl = "workspace",
  content_type = "application/json",
  operations = {
    reinstall_server = {
      method = "POST",
      path = "/v1/{project_id}/app-servers/{server_id}/actions/reinstall",
      request = { type = "object", fields = {
        server_id = { type = "string", required = true, location = "path" },
        update_access_agent = { type = "boolean" },
      } },
      response = { type = "object", fields = { job_id = S } },
      job = "workspaceapp",
    },
    show_job = {
      method = "GET",
      path = "/v2/{project_id}/job/{job_id}",
      request = { type = "object", fields = {
        job_id = { type = "string", required = true, location = "path" },
      } },
      response = { type = "object", fields = {
        id = S, job_type = S, begin_time = S, end_time = S, status = S,
        sub_jobs_total = { type = "integer" },
        sub_jobs = { type = "array", items = { type = "object" } },
      } },
    },
  },
}
