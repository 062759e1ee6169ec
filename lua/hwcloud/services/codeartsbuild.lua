-- CodeArts Build (cloudbuild-ext): notice settings of a build task.
-- Seed: "Sending Asynchronous Notifications When Updating Resource Types".
-- A 200 answer can still say status "fail": `failure` makes that an error.

return {
  name = "codeartsbuild",
  host = "cloudbuild-ext",
  content_type = "application/json",
  operations = {
    update_notice = {
      method = "POST",
      path = "/v3/jobs/notice/{job_id}/update",
      request = { type = "object", fields = {
        job_id = { type = "string", required = true, location = "path" },
        notice_type = { type = "string", required = true },
        enabled_event_type_names = { type = "array", required = true,
                                     items = { type = "string" } },
        param_config = { type = "string" },
      } },
      response = { type = "object", fields = {
        result = { type = "any" },
        error = { type = "any" },
        status = { type = "string" },
      } },
      failure = { field = "status", equals = "fail", message = "error" },
    },
  },
}
