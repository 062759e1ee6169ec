-- Software Repository for Containers: what no SDK says. Enterprise
-- instance jobs are polled with ShowInstanceJob.
return {
  jobs = {
    poll = "show_instance_job", id_field = "job_id", ids = { "job_id" },
    status = "status", success = { "Success" }, failure = { "Failed" },
    reason = "reason", resource = "instance_id",
  },
  waiters = {
    instance_running = { operation = "show_instance", path = "status",
                         success = { "Running" }, failure = { "Unavailable" } },
  },
}
