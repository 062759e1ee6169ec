-- Image Management Service: what no SDK says. Jobs are polled with ShowJob;
-- sub-jobs report under entities.sub_jobs_result.
return {
  jobs = {
    poll = "show_job", id_field = "job_id", ids = { "job_id" },
    status = "status", success = { "SUCCESS" }, failure = { "FAIL" },
    reason = { "fail_reason", "entities.addition_error_msg", "entities.error" },
    code = { "error_code", "entities.error_code" },
    sub_jobs = "entities.sub_jobs_result", resource = "entities.image_id",
  },
}
