-- Cloud Service Engine: what no SDK says. Engine jobs (jobId, or job_id
-- for resize) are polled with ShowEngineJob under their engine.
return {
  jobs = {
    poll = "show_engine_job", id_field = "job_id", ids = { "jobId", "job_id" },
    params = { engine_id = "id" },
    status = "status", success = { "Finished" }, failure = { "Error", "Timeout" },
    reason = { "tasks[].tasks[].taskName", "tasks[].taskName" },
    sub_jobs = "tasks", sub_reason = "taskName",
  },
}
