-- Distributed Cache Service: what no SDK says. Jobs are polled with
-- ShowJobInfo; creations answer a prepaid order.
return {
  jobs = {
    {
      poll = "show_job_info", id_field = "job_id", ids = { "job_id" },
      status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
      reason = "fail_reason",
    },
    { use = "bss" },
  },
}
