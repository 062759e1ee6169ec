-- Relational Database Service: what no SDK says. Jobs are polled with
-- ListJobInfo, the id in the query (`id`); restore_tables spells it jobId.
return {
  jobs = {
    {
      poll = "list_job_info", id_field = "id", ids = { "job_id", "jobId" },
      status = "job.status", success = { "Completed" }, failure = { "Failed" },
      reason = "job.fail_reason", resource = "job.instance.id",
    },
    { use = "bss" },
  },
  waiters = {
    -- list_instances{id = ...}: the one instance
    instance_available = { operation = "list_instances", path = "instances.1.status",
                           success = { "ACTIVE" }, failure = { "FAILED" } },
  },
}
