-- Workspace App v1 (application servers): the operations of the official
-- SDKs (generated; its paths include /v2 ones) and what a job is: jobs are
-- polled with ShowJobDetail (/v2). Region data names the host per region;
-- unlisted mainland-China regions use `appstream`, the others `workspace`.

return {
  name = "workspaceapp",
  title = "Workspace App",
  sdk_name = "workspaceapp",
  host = "appstream",
  host_intl = "workspace",
  jobs = {
    poll = "show_job_detail", id_field = "job_id", started_field = "job_id",
    id_keys = { "job_id", "id" },
    status = { "status" },
    success = { "SUCCESS" },
    failure = { "FAILED" },
    reason = "sub_jobs",
    -- batch operations answer one item per server: its job, or why none
    batch = { { list = "items", id = "job_id", resource = "server_id",
                error = "error_message", code = "error_code" } },
  },
}
