-- CodeArts Deploy: what no SDK says. StartDeployTask answers the
-- execution's record id (`id`) and its task; the documented
-- ShowDeployStatus (GET /v2/tasks/{task_id}/state?record_id=, from the
-- CodeArts Deploy API reference) is in neither SDK, so it is described
-- here; its result.status is running, succeeded or failed.
local S = { type = "string" }

return {
  jobs = {
    poll = "show_deploy_status", id_field = "record_id", ids = { "record_id", "id" },
    operations = { "start_deploy_task" },
    params = { task_id = "task_id" },
    status = "result.status", success = { "succeeded" }, failure = { "failed" },
    reason = { "result.message", "error_msg" }, code = "error_code",
  },
  operations = {
    show_deploy_status = {
      method = "GET",
      path = "/v2/tasks/{task_id}/state",
      request = { type = "object", fields = {
        task_id = { type = "string", required = true, location = "path" },
        record_id = { type = "string", required = true, location = "query" },
      } },
      response = { type = "object", fields = {
        result = { type = "object", fields = { status = S, message = S } },
        status = S, error_code = S, error_msg = S,
      } },
    },
  },
}
