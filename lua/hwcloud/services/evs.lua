-- Elastic Volume Service: what no SDK says. Jobs are polled with ShowJob
-- (the same job service as ECS, on the EVS host).
return {
  jobs = {
    {
      poll = "show_job", id_field = "job_id", ids = { "job_id" },
      status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
      reason = "fail_reason", code = "error_code",
      sub_jobs = "entities.sub_jobs", resource = "entities.volume_id",
    },
    { use = "bss" },
  },
}
